import crypto from "node:crypto";
import { sql, type SQL } from "drizzle-orm";
import { sqliteOf, type Db } from "../../db/client";
import { rawGet, rawRun } from "../../db/raw";
import { capDetail, capText } from "./caps";
import { GENESIS_HASH, eventHash, type AuditEventInput, type HashedEvent } from "./events";

/** audit_events' columns in insert order: the event field each holds, and its type on PostgreSQL. */
const COLUMNS: readonly (readonly [column: string, field: keyof HashedEvent | "hash", pgType: string])[] = [
  ["id", "id", "text"],
  ["ts", "ts", "bigint"],
  ["kind", "kind", "text"],
  ["action", "action", "text"],
  ["actor", "actor", "text"],
  ["request_id", "requestId", "text"],
  ["session_id", "sessionId", "text"],
  ["workspace", "workspace", "text"],
  ["channel", "channel", "text"],
  ["thread", "thread", "text"],
  ["member", "member", "text"],
  ["bundle", "bundle", "text"],
  ["connection", "connection", "text"],
  ["service_account", "serviceAccount", "text"],
  ["method", "method", "text"],
  ["scheme", "scheme", "text"],
  ["host", "host", "text"],
  ["port", "port", "integer"],
  ["path", "path", "text"],
  ["outcome", "outcome", "text"],
  ["rule", "rule", "text"],
  ["reason", "reason", "text"],
  ["status", "status", "integer"],
  ["bytes_in", "bytesIn", "bigint"],
  ["bytes_out", "bytesOut", "bigint"],
  ["duration_ms", "durationMs", "integer"],
  ["detail", "detail", "text"],
  ["prev_hash", "prevHash", "text"],
  ["hash", "hash", "text"],
];
const COLUMN_LIST = COLUMNS.map(([column]) => column).join(", ");

type Statements = { last: import("better-sqlite3").Statement; insert: import("better-sqlite3").Statement };
const statements = new WeakMap<object, Statements>();

/** SQLite: the writer connection's statements, prepared once (the importer appends thousands a second). */
function prepared(db: Db): Statements {
  const c = sqliteOf(db);
  let s = statements.get(c);
  if (!s) {
    s = {
      last: c.prepare("SELECT hash FROM audit_events ORDER BY seq DESC LIMIT 1").pluck(),
      insert: c.prepare(`INSERT INTO audit_events (${COLUMN_LIST}) VALUES (${COLUMNS.map(() => "?").join(", ")})`),
    };
    statements.set(c, s);
  }
  return s;
}

/**
 * Any number, the same in every process: on PostgreSQL the transaction that appends holds this
 * lock until it commits, so the last hash it read is still the last, and seq order is commit order.
 */
export const AUDIT_CHAIN_LOCK = 0x6175_6474; // "audt"

/**
 * PostgreSQL: one INSERT … SELECT FROM unnest(one array per column) per 5,000 rows. Its 29
 * parameters are the same whatever the row count, so building it costs next to nothing; drizzle's
 * values() builder, which checks every value of every row, was half the importer's CPU.
 */
const PG_INSERT_ROWS = 5000;

function pgInsert(rows: (HashedEvent & { hash: string })[]): SQL {
  const arrays = COLUMNS.map(([, field, pgType]) => sql`${sql.param(rows.map((r) => r[field] ?? null))}::${sql.raw(pgType)}[]`);
  // seq is assigned in the order rows arrive, and the chain is in seq order: ORDER BY the ordinality says so.
  return sql`INSERT INTO audit_events (${sql.raw(COLUMN_LIST)}) SELECT ${sql.raw(COLUMN_LIST)} FROM unnest(${sql.join(arrays, sql`, `)}) WITH ORDINALITY AS u(${sql.raw(COLUMN_LIST)}, n) ORDER BY n`;
}

// Time-ordered ids (like ULID: 48-bit milliseconds, then randomness) keep the id index's inserts
// at its right edge: one hot page per commit instead of a random page per event.
let lastMs = 0;
let sequence = 0;
const processTag = crypto.randomBytes(4).toString("hex");
export function newEventId(): string {
  const ms = Date.now();
  sequence = ms === lastMs ? sequence + 1 : 0;
  lastMs = ms;
  return `${ms.toString(16).padStart(12, "0")}-${processTag}-${sequence.toString(16).padStart(6, "0")}`;
}

/** A caller-supplied text field, capped (see caps.ts) before it becomes permanent. */
function text(v: string | null | undefined): string | null {
  return v == null ? null : capText(v);
}

/**
 * Appends events to the chain. Must run inside the caller's write transaction (see
 * writeTransaction) so the change and its audit record commit or roll back together, and so
 * the last hash read here is still the last when the row lands.
 */
export async function appendAuditEvents(
  db: Db,
  events: (AuditEventInput & { id?: string; ts?: number })[],
  now: number = Date.now(),
): Promise<string[]> {
  if (!db.gh.inTransaction) throw new Error("appendAuditEvents must run inside a write transaction");
  const pg = db.gh.dialect === "postgres";
  const s = pg ? null : prepared(db);
  if (pg) await rawGet(db, sql`SELECT pg_advisory_xact_lock(${AUDIT_CHAIN_LOCK}) IS NULL AS locked`);
  let prevHash =
    (s
      ? (s.last.get() as string | undefined)
      : (await rawGet<{ hash: string }>(db, sql`SELECT hash FROM audit_events ORDER BY seq DESC LIMIT 1`))?.hash) ?? GENESIS_HASH;
  const ids: string[] = [];
  const rows: (HashedEvent & { hash: string })[] = [];
  for (const e of events) {
    const row: HashedEvent = {
      id: e.id ?? newEventId(),
      ts: e.ts ?? now,
      kind: e.kind,
      action: e.action,
      actor: text(e.actor),
      requestId: text(e.requestId),
      sessionId: text(e.sessionId),
      workspace: text(e.workspace),
      channel: text(e.channel),
      thread: text(e.thread),
      member: text(e.member),
      bundle: text(e.bundle),
      connection: text(e.connection),
      serviceAccount: text(e.serviceAccount),
      method: text(e.method),
      scheme: text(e.scheme),
      host: text(e.host),
      port: e.port ?? null,
      path: text(e.path),
      outcome: text(e.outcome),
      rule: text(e.rule),
      reason: text(e.reason),
      status: e.status ?? null,
      bytesIn: e.bytesIn ?? null,
      bytesOut: e.bytesOut ?? null,
      durationMs: e.durationMs ?? null,
      detail: e.detail ? capDetail(JSON.stringify(e.detail)) : null,
      prevHash,
    };
    const hash = eventHash(row);
    if (s) {
      s.insert.run(
        row.id,
        row.ts,
        row.kind,
        row.action,
        row.actor,
        row.requestId,
        row.sessionId,
        row.workspace,
        row.channel,
        row.thread,
        row.member,
        row.bundle,
        row.connection,
        row.serviceAccount,
        row.method,
        row.scheme,
        row.host,
        row.port,
        row.path,
        row.outcome,
        row.rule,
        row.reason,
        row.status,
        row.bytesIn,
        row.bytesOut,
        row.durationMs,
        row.detail,
        prevHash,
        hash,
      );
    } else rows.push({ ...row, hash });
    prevHash = hash;
    ids.push(row.id as string);
  }
  for (let i = 0; i < rows.length; i += PG_INSERT_ROWS) {
    // Values exactly as hashed: nothing is mapped (no JSON or boolean columns here).
    await rawRun(db, pgInsert(rows.slice(i, i + PG_INSERT_ROWS)));
  }
  return ids;
}
