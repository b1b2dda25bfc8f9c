// Impact preview: what a draft policy would change for the requests of the last days, replayed
// from the audit log with the proxy's own decide().
import { auditEventIds, distinctEgressRequests } from "../../../db/queries/impact";
import { credentialIdentities, readPolicyDocument } from "../../../db/queries/policy";
import { importJournals } from "../../audit/journal";
import type { Actor } from "../../auth/permissions";
import { AppError } from "../../errors";
import {
  compilePolicy,
  newlyDeniedEntries,
  replayRequests,
  type DeniedEntry,
  type Outcome,
  type PolicyDocument,
  type ReplayExample,
} from "../../policy";
import { authorize } from "../authorize";
import type { ServiceContext } from "../context";

export const DEFAULT_WINDOW_DAYS = 7;
export const MAX_WINDOW_DAYS = 90;
/** Distinct requests replayed at most: beyond it the preview says it is partial. */
export const MAX_DISTINCT = 500_000;
const EXAMPLES = 5;

export type ImpactExample = {
  /** The newest logged event of this request. */
  eventId: string | null;
  lastSeen: string;
  workspace: string;
  channel: string;
  method: string;
  url: string;
  /** Logged events of this request in the window. */
  count: number;
  before: { outcome: Outcome; rule: string; connection?: string };
  after: { outcome: Outcome; rule: string; connection?: string; reason: string };
  /** The Audit page, filtered to this request. */
  auditUrl: string;
};

export type ImpactTransition = { from: Outcome; to: Outcome; requests: number; events: number; examples: ImpactExample[] };

export type ImpactPreview = {
  window: { from: string; to: string; days: number };
  replayed: { requests: number; events: number; truncated: boolean };
  changed: { requests: number; events: number };
  transitions: ImpactTransition[];
  /** Entries the draft adds that the org-wide deny list overrides: they would change nothing. */
  deniedEntries: DeniedEntry[];
  elapsedMs: number;
};

export function windowDaysInput(raw: unknown): number {
  if (raw === undefined || raw === null || raw === "") return DEFAULT_WINDOW_DAYS;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > MAX_WINDOW_DAYS)
    throw new AppError("invalid_field", `windowDays: a whole number of days from 1 to ${MAX_WINDOW_DAYS}`, { field: "windowDays" });
  return n;
}

function displayUrl(e: ReplayExample): string {
  if (e.method === "CONNECT") return `${e.host.includes(":") ? `[${e.host}]` : e.host}:${e.port}`;
  const host = e.host.includes(":") ? `[${e.host}]` : e.host;
  const port = e.port === (e.scheme === "https" ? 443 : 80) ? "" : `:${e.port}`;
  return `${e.scheme}://${host}${port}${e.path}`;
}

/** The Audit page's filter form takes UTC datetime-local values. */
function auditUrl(e: ReplayExample, from: number, id: string | null): string {
  const qs = new URLSearchParams({
    kind: "egress",
    host: e.host,
    workspace: e.workspace,
    channel: e.channel,
    from: new Date(from).toISOString().slice(0, 16),
  });
  if (e.path && e.path !== "/") qs.set("q", e.path.slice(0, 200));
  if (id) qs.set("event", id);
  return `/audit?${qs}`;
}

/**
 * Replays the distinct requests of the last `windowDays` days against the current policy and
 * `draft`. `addedCredentials` names connections the same save would give a credential to.
 */
export async function previewPolicyImpact({
  ctx,
  actor,
  draft,
  current,
  windowDays = DEFAULT_WINDOW_DAYS,
  addedCredentials = [],
}: {
  ctx: ServiceContext;
  actor: Actor | null;
  draft: PolicyDocument;
  /** The document the draft was derived from; read now when absent. */
  current?: PolicyDocument;
  windowDays?: number;
  addedCredentials?: string[];
}): Promise<ImpactPreview> {
  authorize(actor, "policy.write");
  authorize(actor, "audit.read");
  const started = performance.now();
  await importJournals(ctx.db, ctx.env.dataDir);
  const before = current ?? (await readPolicyDocument(ctx.db));
  const creds = await credentialIdentities(ctx.db);
  const to = ctx.now();
  const from = to - windowDays * 24 * 3_600_000;
  const { rows, truncated } = await distinctEgressRequests(ctx.db, { from, to, limit: MAX_DISTINCT });
  const result = replayRequests(
    compilePolicy(before, { credentialsSet: creds, now: to }),
    compilePolicy(draft, { credentialsSet: new Set([...creds, ...addedCredentials]), now: to }),
    rows,
    { examples: EXAMPLES },
  );
  const ids = await auditEventIds(
    ctx.db,
    result.transitions.flatMap((t) => t.examples.map((e) => e.lastSeq)),
  );
  const transitions = result.transitions.map((t) => ({
    from: t.from,
    to: t.to,
    requests: t.requests,
    events: t.events,
    examples: t.examples.map((e) => {
      const id = ids.get(e.lastSeq) ?? null;
      return {
        eventId: id,
        lastSeen: new Date(e.lastTs).toISOString(),
        workspace: e.workspace,
        channel: e.channel,
        method: e.method,
        url: displayUrl(e),
        count: e.count,
        before: e.before,
        after: e.after,
        auditUrl: auditUrl(e, from, id),
      };
    }),
  }));
  return {
    window: { from: new Date(from).toISOString(), to: new Date(to).toISOString(), days: windowDays },
    replayed: { requests: result.requests, events: result.events, truncated },
    changed: { requests: result.changedRequests, events: result.changedEvents },
    transitions,
    deniedEntries: newlyDeniedEntries(before, draft),
    elapsedMs: Math.round(performance.now() - started),
  };
}
