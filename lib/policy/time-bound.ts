// Time-bound grants and report-only windows. Pure: `now` (ms since the epoch) is an argument.
// An entry whose instant is at or before `now` is expired: it is gone from every decision.
import { domainExpiresAt, domainPattern, type PolicyDocument } from "./document";

/** Report-only may be switched on for at most this long at a time. */
export const REPORT_ONLY_MAX_MS = 7 * 24 * 3600_000;

export function instantMs(instant: string): number {
  return Date.parse(instant);
}

const live = (instant: string | undefined, now: number) => instant === undefined || instantMs(instant) > now;

/** The document as it decides at `now`: expired grants and report-only windows removed. */
export function liveDocument(doc: PolicyDocument, now: number): PolicyDocument {
  if (!hasTimeBound(doc)) return doc;
  const out: PolicyDocument = {
    ...doc,
    bundles: doc.bundles.map((b) => ({
      ...b,
      domains: b.domains.filter((d) => live(domainExpiresAt(d), now)),
      connections: b.connections.filter((c) => live(c.expiresAt, now)),
    })),
  };
  if (doc.reportOnly) out.reportOnly = doc.reportOnly.filter((r) => live(r.until, now));
  return out;
}

function hasTimeBound(doc: PolicyDocument): boolean {
  return (
    (doc.reportOnly?.length ?? 0) > 0 ||
    doc.bundles.some((b) => b.connections.some((c) => c.expiresAt) || b.domains.some((d) => typeof d !== "string"))
  );
}

/** Every instant in the document, expired or not. */
function instants(doc: PolicyDocument): number[] {
  const out: number[] = [];
  for (const b of doc.bundles) {
    for (const d of b.domains) {
      const at = domainExpiresAt(d);
      if (at) out.push(instantMs(at));
    }
    for (const c of b.connections) if (c.expiresAt) out.push(instantMs(c.expiresAt));
  }
  for (const r of doc.reportOnly ?? []) out.push(instantMs(r.until));
  return out;
}

/** The next instant after `now` at which some decision may change, or null when none is pending. */
export function nextExpiry(doc: PolicyDocument, now: number): number | null {
  let next: number | null = null;
  for (const at of instants(doc)) if (at > now && (next === null || at < next)) next = at;
  return next;
}

/** Until when this channel is in report-only mode (its own window or its workspace's), or null. */
export function reportOnlyUntil(doc: PolicyDocument, workspace: string, channel: string, now: number): number | null {
  let until: number | null = null;
  for (const r of doc.reportOnly ?? []) {
    if (r.workspace !== workspace || (r.channel !== undefined && r.channel !== channel)) continue;
    const at = instantMs(r.until);
    if (at > now && (until === null || at > until)) until = at;
  }
  return until;
}

export type ExpiredEntry =
  | { kind: "domain"; bundle: string; pattern: string; expiresAt: string }
  | { kind: "connection"; bundle: string; connection: string; expiresAt: string }
  | { kind: "reportOnly"; workspace: string; channel?: string; until: string };

/** What has expired at `now`, and the document without it: what the expiry sweep writes. */
export function expiredEntries(doc: PolicyDocument, now: number): { expired: ExpiredEntry[]; remaining: PolicyDocument } {
  const expired: ExpiredEntry[] = [];
  for (const b of doc.bundles) {
    for (const d of b.domains) {
      const at = domainExpiresAt(d);
      if (at && !live(at, now)) expired.push({ kind: "domain", bundle: b.name, pattern: domainPattern(d), expiresAt: at });
    }
    for (const c of b.connections)
      if (c.expiresAt && !live(c.expiresAt, now))
        expired.push({ kind: "connection", bundle: b.name, connection: c.name, expiresAt: c.expiresAt });
  }
  for (const r of doc.reportOnly ?? [])
    if (!live(r.until, now))
      expired.push({ kind: "reportOnly", workspace: r.workspace, ...(r.channel ? { channel: r.channel } : {}), until: r.until });
  const remaining = { ...liveDocument(doc, now) };
  if (remaining.reportOnly?.length === 0) delete remaining.reportOnly;
  return { expired, remaining };
}

/** "2 h 5 min", "3 d 4 h", "45 s": how long until an instant, for people. */
export function formatRemaining(ms: number): string {
  if (ms <= 0) return "expired";
  const s = Math.floor(ms / 1000);
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (d > 0) return h > 0 ? `${d} d ${h} h` : `${d} d`;
  if (h > 0) return m > 0 ? `${h} h ${m} min` : `${h} h`;
  if (m > 0) return `${m} min`;
  return `${s} s`;
}
