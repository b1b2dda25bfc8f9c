// A credential's health as the upstream sees it: a badge, and the figures behind it.
import type { ConnectionStatus } from "@/lib/services/credentials/credential-health";
import { Badge, formatTime } from "./ui";

type Health = NonNullable<ConnectionStatus["health"]>;

const TONE = { healthy: "green", failing: "red", unused: "amber" } as const;

export function CredentialHealthBadge({ health, testId }: { health: Health | null | undefined; testId?: string }) {
  if (!health) return null;
  return (
    <span data-testid={testId} data-state={health.state} title={health.reason}>
      <Badge tone={TONE[health.state]}>{health.state}</Badge>
    </span>
  );
}

function share(h: Health): string {
  if (h.authFailureShare24h === null) return "no upstream answers in the last 24 hours";
  return `${Math.round(h.authFailureShare24h * 100)}% 401/403 in the last 24 hours (${h.authFailures24h} of ${h.answers24h})`;
}

/** The health line of the bundle page's credential row. */
export function CredentialHealthDetail({ health, testId }: { health: Health | null | undefined; testId?: string }) {
  if (!health) return null;
  return (
    <span className="flex flex-wrap items-center gap-x-2 gap-y-1 text-sm" data-testid={testId}>
      <CredentialHealthBadge health={health} />
      <span className="text-slate-700">{health.reason}</span>
      <span className="text-slate-600">
        · last success {health.lastSuccessAt ? formatTime(Date.parse(health.lastSuccessAt)) : "never since it was set"} · {share(health)}
      </span>
    </span>
  );
}
