// Audit search: filters become one parameterised WHERE over indexed columns; cursor = seq.
import { sql, type SQL } from "drizzle-orm";
import type { Db } from "../client";
import { rawAll, rawGet, rawRun } from "../raw";

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

export const AUDIT_COLUMNS =
  sql.raw(`seq, id, ts, kind, action, actor, request_id AS "requestId", session_id AS "sessionId", workspace, channel, thread,
  member, bundle, connection, service_account AS "serviceAccount", method, scheme, host, port, path, outcome, rule, reason, status,
  bytes_in AS "bytesIn", bytes_out AS "bytesOut", duration_ms AS "durationMs", detail, prev_hash AS "prevHash", hash`);
export const AUDIT_SELECT = sql`SELECT ${AUDIT_COLUMNS} FROM audit_events`;

/** The columns `q=` searches; audit_fts (SQLite migration 0006) and audit_search_trgm (PostgreSQL) index the same ones. */
export const FREE_TEXT_COLUMNS = ["host", "path", "reason", "action", "actor", "member", "rule", "connection", "request_id"] as const;

/** The expression PostgreSQL's trigram index covers (migrations-pg 0001): the columns, chr(1) apart. */
const PG_SEARCH_TEXT = sql.raw(FREE_TEXT_COLUMNS.map((c) => `coalesce(${c}, '')`).join(" || chr(1) || "));

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

export function whereClause(f: AuditFilter, fts: FtsUse = "filter", dialect: Db["gh"]["dialect"] = "sqlite"): SQL {
  const parts: SQL[] = [];
  const eq = (col: string, v: string | undefined) => {
    if (v !== undefined && v !== "") parts.push(sql`${sql.raw(col)} = ${v}`);
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
  if (f.wouldBlock) parts.push(sql`rule LIKE 'reportOnly:%'`);
  if (f.from !== undefined) parts.push(sql`ts >= ${f.from}`);
  if (f.to !== undefined) parts.push(sql`ts <= ${f.to}`);
  if (f.before !== undefined) parts.push(sql`seq < ${f.before}`);
  if (f.q) {
    // The trigram index narrows the rows; the LIKE below then decides, so the meaning stays
    // exactly a case-insensitive substring match of one column. Shorter queries have no
    // trigram to look up and scan, as before.
    const like = `%${f.q.replace(/[\\%_]/g, (c) => "\\" + c)}%`;
    const op = sql.raw(dialect === "postgres" ? "ILIKE" : "LIKE");
    const match = ftsQuery(f.q);
    if (match !== null && fts !== "none") {
      if (dialect === "postgres") parts.push(sql`(${PG_SEARCH_TEXT}) ILIKE ${like} ESCAPE '\\'`);
      else if (fts === "filter") parts.push(sql`seq IN (SELECT rowid FROM audit_fts WHERE audit_fts MATCH ${match})`);
    }
    parts.push(
      sql`(${sql.join(
        FREE_TEXT_COLUMNS.map((c) => sql`${sql.raw(c)} ${op} ${like} ESCAPE '\\'`),
        sql` OR `,
      )})`,
    );
  }
  return parts.length ? sql` WHERE ${sql.join(parts, sql` AND `)}` : sql``;
}

/** Below this many rows for an indexed filter (host, channel), checking each row beats the trigram index. */
const FEW_ROWS = 5000;

async function fewRowsFor(db: Db, f: AuditFilter): Promise<boolean> {
  const indexed: [string, string | undefined][] = [
    ["host", f.host?.toLowerCase()],
    ["channel", f.channel],
  ];
  for (const [col, value] of indexed) {
    if (!value) continue;
    const row = await rawGet<{ n: number }>(
      db,
      sql`SELECT count(*) AS n FROM (SELECT 1 FROM audit_events WHERE ${sql.raw(col)} = ${value} LIMIT ${FEW_ROWS + 1}) AS few`,
    );
    if (Number(row?.n ?? 0) <= FEW_ROWS) return true;
  }
  return false;
}

/**
 * One page, newest first. On SQLite a free-text search reads the trigram index's matches newest
 * first and stops at the page size (a common word costs a page, not its whole match set),
 * unless a host or channel filter already leaves few rows, which the LIKE then checks one by
 * one. On PostgreSQL the planner chooses between the trigram index and the primary key.
 */
export async function searchAuditEvents(db: Db, filter: AuditFilter, limit: number): Promise<AuditEventRow[]> {
  const dialect = db.gh.dialect;
  const match = filter.q ? ftsQuery(filter.q) : null;
  if (match === null || dialect === "postgres") {
    return rawAll<AuditEventRow>(db, sql`${AUDIT_SELECT}${whereClause(filter, "filter", dialect)} ORDER BY seq DESC LIMIT ${limit}`);
  }
  if (await fewRowsFor(db, filter)) {
    return rawAll<AuditEventRow>(db, sql`${AUDIT_SELECT}${whereClause(filter, "none")} ORDER BY seq DESC LIMIT ${limit}`);
  }
  const w = whereClause(filter, "drive");
  const before = filter.before !== undefined ? sql` AND rowid < ${filter.before}` : sql``;
  // The subquery exposes only the rowid, so the event's columns stay unambiguous.
  return rawAll<AuditEventRow>(
    db,
    sql`SELECT ${AUDIT_COLUMNS} FROM (SELECT rowid AS fts_seq FROM audit_fts WHERE audit_fts MATCH ${match}${before}) AS m CROSS JOIN audit_events ON audit_events.seq = m.fts_seq${w} ORDER BY m.fts_seq DESC LIMIT ${limit}`,
  );
}

export async function findAuditEvent(db: Db, id: string): Promise<AuditEventRow | undefined> {
  return rawGet<AuditEventRow>(db, sql`${AUDIT_SELECT} WHERE id = ${id}`);
}

/** Egress requests per hour bucket and outcome since `from`. */
export async function hourlyOutcomes(db: Db, from: number, hourMs: number): Promise<{ bucket: number; outcome: string; n: number }[]> {
  const rows = await rawAll<{ bucket: number; outcome: string; n: number }>(
    db,
    sql`SELECT (ts / ${sql.raw(String(hourMs))}) * ${sql.raw(String(hourMs))} AS bucket, outcome, count(*) AS n FROM audit_events
        WHERE ts >= ${from} AND kind = 'egress' AND action = 'egress.request' GROUP BY bucket, outcome`,
  );
  return rows.map((r) => ({ bucket: Number(r.bucket), outcome: r.outcome, n: Number(r.n) }));
}

export async function topBlockedHosts(
  db: Db,
  from: number,
  limit: number,
): Promise<{ host: string; count: number; channel: string | null; workspace: string | null }[]> {
  const rows = await rawAll<{ host: string; count: number; channel: string | null; workspace: string | null }>(
    db,
    sql`SELECT host, count(*) AS count, max(channel) AS channel, max(workspace) AS workspace FROM audit_events
        WHERE ts >= ${from} AND kind = 'egress' AND action = 'egress.request' AND outcome = 'blocked' AND host IS NOT NULL
        GROUP BY host ORDER BY count DESC LIMIT ${limit}`,
  );
  return rows.map((r) => ({ ...r, count: Number(r.count) }));
}

export async function latestAuditSeq(db: Db): Promise<number> {
  return Number((await rawGet<{ seq: number | null }>(db, sql`SELECT max(seq) AS seq FROM audit_events`))?.seq ?? 0);
}

/** The egress journal's import offsets (lib/audit/journal.ts), one row per journal file. */
export function journalOffsets(db: Db) {
  return {
    offset: async (file: string): Promise<number> =>
      Number((await rawGet<{ offset: number }>(db, sql`SELECT "offset" FROM audit_journal WHERE file = ${file}`))?.offset ?? 0),
    advance: async (file: string, offset: number): Promise<void> =>
      void (await rawRun(
        db,
        sql`INSERT INTO audit_journal (file, "offset") VALUES (${file}, ${offset}) ON CONFLICT (file) DO UPDATE SET "offset" = excluded."offset"`,
      )),
    forget: async (file: string): Promise<void> => void (await rawRun(db, sql`DELETE FROM audit_journal WHERE file = ${file}`)),
  };
}
