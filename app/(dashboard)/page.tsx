import Link from "next/link";
import { CredentialHealthBadge } from "@/components/credential-health";
import { OutcomeChart } from "@/components/outcome-chart";
import { TimeLeft } from "@/components/time-left";
import { Alert, Badge, Card, cx, Empty, formatTime, PageHeader, Table, Td, Th } from "@/components/ui";
import { requireUser } from "@/app/_auth/dal";
import { can } from "@/lib/auth/permissions";
import { getOverview } from "@/lib/services/audit/overview";
import { listConnectionHealth } from "@/lib/services/credentials/credential-health";
import { sinkLagSummary } from "@/lib/services/sinks/list-sinks";
import { serviceContext } from "@/lib/services/context";
import { denyEntryCovering } from "@/lib/services/policy/deny-covers";
import { getPolicy } from "@/lib/services/policy/get-policy";
import { listApiKeys } from "@/lib/services/api-keys/list-api-keys";
import { listSessions } from "@/lib/services/sessions/list-sessions";

export const dynamic = "force-dynamic";
export const metadata = { title: "Overview" };

const STALE_MS = 30 * 24 * 3600_000;

/** The grant form, prefilled with the host and the channel it was last blocked in. */
function grantHref(b: { host: string; workspace: string | null; channel: string | null }): string {
  const qs = new URLSearchParams({ host: b.host });
  if (b.workspace) qs.set("workspace", b.workspace);
  if (b.channel) qs.set("channel", b.channel);
  return `/grants?${qs}`;
}

export default async function OverviewPage() {
  const actor = await requireUser();
  const ctx = serviceContext();
  const o = await getOverview({ ctx, actor });
  const health = new Map((await listConnectionHealth({ ctx, actor })).map((c) => [`${c.bundle}/${c.connection}`, c.health]));
  const sinks = await sinkLagSummary({ ctx, actor });
  const policy = await getPolicy({ ctx, actor });
  const orgDeny = policy.orgDeny;
  // First-run steps, each done once the thing exists; the list goes away when all are.
  const steps = [
    { label: "Create a bundle", done: policy.bundles.length > 0, href: "/bundles" },
    { label: "Add a connection", done: policy.bundles.some((b) => b.connections.length > 0), href: "/bundles" },
    {
      label: "Create an orchestrator API key",
      done: (await listApiKeys({ ctx, actor })).some((k) => k.role === "orchestrator" && !k.revokedAt),
      href: "/settings",
    },
    {
      label: "Start a session (the orchestrator asks for one)",
      done: (await listSessions({ ctx, actor, limit: 1 })).length > 0,
      href: "/sessions",
    },
  ];
  const blocked = o.hours.reduce((n, h) => n + h.blocked, 0);
  const owner = can(actor, "policy.write");
  const now = Date.now();
  return (
    <>
      <PageHeader title="Overview" description="Egress at a glance: what went out, what was stopped, which credentials are in use." />
      {[...health].some(([, h]) => h?.state === "failing") && (
        <div className="mb-6" data-testid="failing-credentials">
          <Alert tone="red">
            The upstream refuses{" "}
            {[...health]
              .filter(([, h]) => h?.state === "failing")
              .map(([id]) => id)
              .join(", ")}
            : the credential may have been rotated or revoked there. Replace it on its bundle page.
          </Alert>
        </div>
      )}
      {steps.some((st) => !st.done) && (
        <Card title="Get started" className="mb-6">
          <ol className="space-y-2 text-sm" data-testid="first-run-checklist">
            {steps.map((st, i) => (
              <li key={st.label} className="flex items-center gap-2" data-done={st.done}>
                <span aria-hidden="true" className={st.done ? "text-emerald-700" : "text-slate-600"}>
                  {st.done ? "✓" : `${i + 1}.`}
                </span>
                {st.done ? (
                  <span className="text-slate-600 line-through">
                    {st.label}
                    <span className="sr-only"> (done)</span>
                  </span>
                ) : (
                  <Link href={st.href} className="font-medium text-slate-900 underline">
                    {st.label}
                  </Link>
                )}
              </li>
            ))}
          </ol>
        </Card>
      )}
      {(policy.reportOnly ?? []).length > 0 && (
        <Card title="Report-only rollout" className="mb-6">
          <ul className="space-y-1 text-sm" data-testid="overview-report-only">
            {policy.reportOnly!.map((r) => (
              <li key={`${r.workspace}/${r.channel ?? ""}`} className="flex flex-wrap items-center gap-2">
                <Badge tone="red">report-only</Badge>
                {r.channel ? `channel ${r.channel} in ${r.workspace}` : `workspace ${r.workspace}`}
                <TimeLeft until={r.until} now={now} prefix="ends in" />
              </li>
            ))}
          </ul>
          <p className="mt-2 text-sm">
            <Link className="underline" href="/audit?wouldBlock=1">
              What would have been blocked
            </Link>
          </p>
        </Card>
      )}
      <div className="mb-6 grid grid-cols-2 gap-4 xl:grid-cols-4">
        <Card>
          <div className="text-xs uppercase tracking-wide text-slate-600">Requests, 24 h</div>
          <div className="mt-1 text-2xl font-semibold">{o.hours.reduce((n, h) => n + h.credentialed + h.allowlisted + h.blocked, 0)}</div>
        </Card>
        <Card>
          <div className="text-xs uppercase tracking-wide text-slate-600">Blocked, 24 h</div>
          <div className={cx("mt-1 text-2xl font-semibold", blocked > 0 && "text-red-700")}>{blocked}</div>
        </Card>
        <Card>
          <div className="text-xs uppercase tracking-wide text-slate-600">Active sessions</div>
          <div className="mt-1 text-2xl font-semibold" data-testid="active-sessions">
            <Link href="/sessions">{o.activeSessions}</Link>
          </div>
        </Card>
        <Card>
          <div className="text-xs uppercase tracking-wide text-slate-600">Audit chain</div>
          <div className="mt-1" data-testid="overview-chain">
            {!o.chain.ok ? (
              <Badge tone="red">broken at #{o.chain.firstBad?.seq}</Badge>
            ) : o.chain.verifiedThrough < o.chain.latest ? (
              <Badge tone="amber">
                intact so far · verified through #{o.chain.verifiedThrough} of {o.chain.latest}
              </Badge>
            ) : (
              <Badge tone="green">intact · {o.chain.events} events</Badge>
            )}
          </div>
          {sinks.length > 0 && (
            <ul className="mt-2 space-y-1 text-xs text-slate-700" data-testid="overview-sinks" aria-label="Audit streaming">
              {sinks.map((s) => (
                <li key={s.name} className="break-all">
                  Streaming to {s.name}:{" "}
                  {s.events === 0 ? (
                    <span className="text-green-800">caught up</span>
                  ) : (
                    <span className="font-medium text-amber-800">
                      {s.events} event{s.events === 1 ? "" : "s"} behind
                      {s.seconds ? `, ${s.seconds < 120 ? `${s.seconds} s` : `${Math.round(s.seconds / 60)} min`}` : ""}
                    </span>
                  )}
                </li>
              ))}
            </ul>
          )}
        </Card>
      </div>
      <div className="space-y-6">
        <Card title="Requests per hour by outcome (UTC)">
          <OutcomeChart hours={o.hours} />
        </Card>
        <div className="grid grid-cols-1 gap-6 xl:grid-cols-2">
          <Card title="Top blocked hosts, 7 days">
            {o.topBlocked.length === 0 ? (
              <Empty>Nothing blocked.</Empty>
            ) : (
              <Table label="Blocked most often">
                <thead>
                  <tr>
                    <Th>Host</Th>
                    <Th>Blocked</Th>
                    <Th srLabel="Actions" sticky />
                  </tr>
                </thead>
                <tbody className="divide-y divide-slate-100">
                  {o.topBlocked.map((b) => (
                    <tr key={b.host} data-testid="top-blocked">
                      <Td wrap className="font-mono text-xs">
                        <Link
                          className="underline-offset-2 hover:underline"
                          href={`/audit?host=${encodeURIComponent(b.host)}&outcome=blocked`}
                        >
                          {b.host}
                        </Link>
                      </Td>
                      <Td>{b.count}</Td>
                      <Td sticky className="text-right">
                        {owner && denyEntryCovering(orgDeny, b.host) ? (
                          <span className="text-xs text-slate-600">denied org-wide ({denyEntryCovering(orgDeny, b.host)})</span>
                        ) : (
                          owner && (
                            <span className="inline-flex gap-3">
                              <Link className="text-sm underline" href={`/bundles?allow=${encodeURIComponent(b.host)}`}>
                                {/* The visible words start the accessible name (WCAG 2.5.3); the host tells rows apart. */}
                                Add to Domains…<span className="sr-only"> {b.host}</span>
                              </Link>
                              <Link className="text-sm underline" href={grantHref(b)}>
                                Grant for a time…<span className="sr-only"> {b.host}</span>
                              </Link>
                            </span>
                          )
                        )}
                      </Td>
                    </tr>
                  ))}
                </tbody>
              </Table>
            )}
          </Card>
          <Card title="Credentials by last use">
            {o.credentials.length === 0 ? (
              <Empty>No connections yet.</Empty>
            ) : (
              <Table label="Credentials by last use">
                <thead>
                  <tr>
                    <Th>Connection</Th>
                    <Th>Acts as</Th>
                    <Th>Last used</Th>
                    <Th>Health</Th>
                  </tr>
                </thead>
                <tbody className="divide-y divide-slate-100">
                  {o.credentials.map((c) => (
                    <tr key={c.identity} data-testid="credential-use">
                      <Td>
                        <Link className="underline-offset-2 hover:underline" href={`/bundles/${encodeURIComponent(c.bundle)}`}>
                          {c.identity}
                        </Link>
                      </Td>
                      <Td>{c.serviceAccount}</Td>
                      <Td>
                        {!c.set ? (
                          <Badge tone="amber">no credential</Badge>
                        ) : !c.lastUsedAt ? (
                          <Badge tone="amber">never used</Badge>
                        ) : now - c.lastUsedAt > STALE_MS ? (
                          <Badge tone="amber">unused since {formatTime(c.lastUsedAt)}</Badge>
                        ) : (
                          formatTime(c.lastUsedAt)
                        )}
                      </Td>
                      <Td>
                        <CredentialHealthBadge health={health.get(c.identity)} testId={`overview-health-${c.identity}`} />
                      </Td>
                    </tr>
                  ))}
                </tbody>
              </Table>
            )}
          </Card>
        </div>
      </div>
    </>
  );
}
