import crypto from "node:crypto";
import type { Db } from "../../db/client";
import { capDetail, capText } from "./caps";
import { GENESIS_HASH, eventHash, type AuditEventInput, type HashedEvent } from "./events";

const COLUMNS = [
  "id",
  "ts",
  "kind",
  "action",
  "actor",
  "request_id",
  "session_id",
  "workspace",
  "channel",
  "thread",
  "member",
  "bundle",
  "connection",
  "service_account",
  "method",
  "scheme",
  "host",
  "port",
  "path",
  "outcome",
  "rule",
  "reason",
  "status",
  "bytes_in",
  "bytes_out",
  "duration_ms",
  "detail",
  "prev_hash",
  "hash",
];

const statements = new WeakMap<Db, { last: import("better-sqlite3").Statement; insert: import("better-sqlite3").Statement }>();

function prepared(db: Db) {
  let s = statements.get(db);
  if (!s) {
    s = {
      last: db.$client.prepare("SELECT hash FROM audit_events ORDER BY seq DESC LIMIT 1").pluck(),
      insert: db.$client.prepare(`INSERT INTO audit_events (${COLUMNS.join(", ")}) VALUES (${COLUMNS.map(() => "?").join(", ")})`),
    };
    statements.set(db, s);
  }
  return s;
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
export function appendAuditEvents(db: Db, events: (AuditEventInput & { id?: string; ts?: number })[], now: number = Date.now()): string[] {
  if (!db.$client.inTransaction) throw new Error("appendAuditEvents must run inside a write transaction");
  const s = prepared(db);
  let prevHash = (s.last.get() as string | undefined) ?? GENESIS_HASH;
  const ids: string[] = [];
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
    prevHash = hash;
    ids.push(row.id as string);
  }
  return ids;
}
