// Audit search: filters become one parameterised WHERE over indexed columns; cursor = seq.
import type { Db } from "../client";

export type AuditFilter = {
  q?: string;
  kind?: string;
  outcome?: string;
  host?: string;
  workspace?: string;
  channel?: string;
  member?: string;
  actor?: string;
  connection?: string;
  action?: string;
  from?: number;
  to?: number;
  /** Return events with seq below this. */
  before?: number;
  /** Only requests report-only mode let out that would have been blocked. */
  wouldBlock?: boolean;
};

export type AuditEventRow = {
  seq: number;
  id: string;
  ts: number;
  kind: string;
  action: string;
  actor: string | null;
  requestId: string | null;
  sessionId: string | null;
  workspace: string | null;
  channel: string | null;
  thread: string | null;
  member: string | null;
  bundle: string | null;
  connection: string | null;
  serviceAccount: string | null;
  method: string | null;
  scheme: string | null;
  host: string | null;
  port: number | null;
  path: string | null;
  outcome: string | null;
  rule: string | null;
  reason: string | null;
  status: number | null;
  bytesIn: number | null;
  bytesOut: number | null;
  durationMs: number | null;
  detail: string | null;
  prevHash: string;
  hash: string;
};

export const AUDIT_SELECT = `SELECT seq, id, ts, kind, action, actor, request_id AS requestId, session_id AS sessionId, workspace, channel, thread,
  member, bundle, connection, service_account AS serviceAccount, method, scheme, host, port, path, outcome, rule, reason, status,
  bytes_in AS bytesIn, bytes_out AS bytesOut, duration_ms AS durationMs, detail, prev_hash AS prevHash, hash FROM audit_events`;

/** The columns `q=` searches; audit_fts (migration 0006) indexes the same ones. */
export const FREE_TEXT_COLUMNS = ["host", "path", "reason", "action", "actor", "member", "rule", "connection", "request_id"] as const;

/**
 * `q` as an FTS5 phrase for the trigram tokenizer (every 3-character window, consecutive), or
 * null when it has fewer than 3 characters and so no trigram to look up.
 */
export function ftsQuery(q: string): string | null {
  if ([...q].length < 3) return null;
  return `"${q.replaceAll('"', '""')}"`;
}

/**
 * How `q` uses the trigram index: `filter` narrows by `seq IN (matches)` (the whole match set;
 * right for an export, which reads everything), `none` leaves it to the LIKE (another indexed
 * filter already leaves few rows), `drive` lets the caller read matches newest first and stop
 * at the page size (see searchAuditEvents).
 */
export type FtsUse = "filter" | "none" | "drive";

export function whereClause(f: AuditFilter, fts: FtsUse = "filter"): { sql: string; params: unknown[] } {
  const parts: string[] = [];
  const params: unknown[] = [];
  const eq = (col: string, v: string | undefined) => {
    if (v !== undefined && v !== "") {
      parts.push(`${col} = ?`);
      params.push(v);
    }
  };
  eq("kind", f.kind);
  eq("outcome", f.outcome);
  eq("host", f.host?.toLowerCase());
  eq("workspace", f.workspace);
  eq("channel", f.channel);
  eq("member", f.member);
  eq("actor", f.actor);
  eq("connection", f.connection);
  eq("action", f.action);
  // Report-only decisions are ruled "reportOnly:<the rule that would have blocked>" (lib/policy).
  if (f.wouldBlock) parts.push("rule LIKE 'reportOnly:%'");
  if (f.from !== undefined) {
    parts.push("ts >= ?");
    params.push(f.from);
  }
  if (f.to !== undefined) {
    parts.push("ts <= ?");
    params.push(f.to);
  }
  if (f.before !== undefined) {
    parts.push("seq < ?");
    params.push(f.before);
  }
  if (f.q) {
    // The trigram index narrows the rows; the LIKE below then decides, so the meaning stays
    // exactly SQLite's case-insensitive (ASCII) substring match. Shorter queries have no
    // trigram to look up and scan, as before.
    const match = ftsQuery(f.q);
    if (match !== null && fts === "filter") {
      parts.push("seq IN (SELECT rowid FROM audit_fts WHERE audit_fts MATCH ?)");
      params.push(match);
    }
    const like = `%${f.q.replace(/[\\%_]/g, (c) => "\\" + c)}%`;
    parts.push(`(${FREE_TEXT_COLUMNS.map((c) => `${c} LIKE ? ESCAPE '\\'`).join(" OR ")})`);
    for (let i = 0; i < FREE_TEXT_COLUMNS.length; i++) params.push(like);
  }
  return { sql: parts.length ? ` WHERE ${parts.join(" AND ")}` : "", params };
}

/** Below this many rows for an indexed filter (host, channel), checking each row beats the trigram index. */
const FEW_ROWS = 5000;

function fewRowsFor(db: Db, f: AuditFilter): boolean {
  const indexed: [string, string | undefined][] = [
    ["host", f.host?.toLowerCase()],
    ["channel", f.channel],
  ];
  for (const [col, value] of indexed) {
    if (!value) continue;
    const n = db.$client
      .prepare(`SELECT count(*) FROM (SELECT 1 FROM audit_events WHERE ${col} = ? LIMIT ${FEW_ROWS + 1})`)
      .pluck()
      .get(value) as number;
    if (n <= FEW_ROWS) return true;
  }
  return false;
}

/**
 * One page, newest first. A free-text search reads the trigram index's matches newest first
 * and stops at the page size (a common word costs a page, not its whole match set), unless a
 * host or channel filter already leaves few rows, which the LIKE then checks one by one.
 */
export function searchAuditEvents(db: Db, filter: AuditFilter, limit: number): AuditEventRow[] {
  const match = filter.q ? ftsQuery(filter.q) : null;
  if (match === null) {
    const w = whereClause(filter);
    return db.$client.prepare(`${AUDIT_SELECT}${w.sql} ORDER BY seq DESC LIMIT ?`).all(...w.params, limit) as AuditEventRow[];
  }
  if (fewRowsFor(db, filter)) {
    const w = whereClause(filter, "none");
    return db.$client.prepare(`${AUDIT_SELECT}${w.sql} ORDER BY seq DESC LIMIT ?`).all(...w.params, limit) as AuditEventRow[];
  }
  const w = whereClause(filter, "drive");
  const before = filter.before !== undefined ? " AND rowid < ?" : "";
  // The subquery exposes only the rowid, so the event's columns stay unambiguous.
  const from = `FROM (SELECT rowid AS fts_seq FROM audit_fts WHERE audit_fts MATCH ?${before}) AS m CROSS JOIN audit_events ON audit_events.seq = m.fts_seq`;
  const sql = `${AUDIT_SELECT.replace(/FROM audit_events$/, from)}${w.sql} ORDER BY m.fts_seq DESC LIMIT ?`;
  const params = filter.before !== undefined ? [match, filter.before] : [match];
  return db.$client.prepare(sql).all(...params, ...w.params, limit) as AuditEventRow[];
}

export function findAuditEvent(db: Db, id: string): AuditEventRow | undefined {
  return db.$client.prepare(`${AUDIT_SELECT} WHERE id = ?`).get(id) as AuditEventRow | undefined;
}

/** Egress requests per hour bucket and outcome since `from`. */
export function hourlyOutcomes(db: Db, from: number, hourMs: number): { bucket: number; outcome: string; n: number }[] {
  return db.$client
    .prepare(
      `SELECT (ts / ${hourMs}) * ${hourMs} AS bucket, outcome, count(*) AS n FROM audit_events
        WHERE ts >= ? AND kind = 'egress' AND action = 'egress.request' GROUP BY bucket, outcome`,
    )
    .all(from) as { bucket: number; outcome: string; n: number }[];
}

export function topBlockedHosts(
  db: Db,
  from: number,
  limit: number,
): { host: string; count: number; channel: string | null; workspace: string | null }[] {
  return db.$client
    .prepare(
      `SELECT host, count(*) AS count, max(channel) AS channel, max(workspace) AS workspace FROM audit_events
        WHERE ts >= ? AND kind = 'egress' AND action = 'egress.request' AND outcome = 'blocked' AND host IS NOT NULL
        GROUP BY host ORDER BY count DESC LIMIT ?`,
    )
    .all(from, limit) as { host: string; count: number; channel: string | null; workspace: string | null }[];
}

export function latestAuditSeq(db: Db): number {
  return (db.$client.prepare("SELECT max(seq) FROM audit_events").pluck().get() as number | null) ?? 0;
}

/** The egress journal's import offsets (lib/audit/journal.ts), one row per journal file. */
export function prepareJournalOffsets(db: Db) {
  const read = db.$client.prepare("SELECT offset FROM audit_journal WHERE file = ?").pluck();
  const write = db.$client.prepare(
    "INSERT INTO audit_journal (file, offset) VALUES (?, ?) ON CONFLICT (file) DO UPDATE SET offset = excluded.offset",
  );
  const remove = db.$client.prepare("DELETE FROM audit_journal WHERE file = ?");
  return {
    offset: (file: string): number => (read.get(file) as number | undefined) ?? 0,
    advance: (file: string, offset: number): void => void write.run(file, offset),
    forget: (file: string): void => void remove.run(file),
  };
}
