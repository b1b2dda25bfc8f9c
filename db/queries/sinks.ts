// Audit stream sinks and the rows they read.
import { eq, sql } from "drizzle-orm";
import type { Db } from "../client";
import { rawAll, rawGet, rawRun } from "../raw";
import { writeTransaction } from "../tx";
import type { auditSinks } from "../schema";
import { AUDIT_SELECT, type AuditEventRow } from "./audit";

export type SinkRow = typeof auditSinks.$inferSelect;

export async function listSinks(db: Db): Promise<SinkRow[]> {
  const { auditSinks } = db.t;
  return db.select().from(auditSinks).orderBy(auditSinks.createdAt);
}

export async function findSink(db: Db, idOrName: string): Promise<SinkRow | undefined> {
  const { auditSinks } = db.t;
  return (
    (await db.select().from(auditSinks).where(eq(auditSinks.id, idOrName)))[0] ??
    (await db.select().from(auditSinks).where(eq(auditSinks.name, idOrName)))[0]
  );
}

/** The next events after a chain position, in chain order. */
export async function readEventsAfter(db: Db, seq: number, limit: number): Promise<AuditEventRow[]> {
  return rawAll<AuditEventRow>(db, sql`${AUDIT_SELECT} WHERE seq > ${seq} ORDER BY seq LIMIT ${limit}`);
}

export async function auditHead(db: Db): Promise<{ seq: number; ts: number } | null> {
  const r = await rawGet<{ seq: number; ts: number }>(db, sql`SELECT seq, ts FROM audit_events ORDER BY seq DESC LIMIT 1`);
  return r ? { seq: Number(r.seq), ts: Number(r.ts) } : null;
}

/** Events after `seq` and the time of the oldest of them (null when caught up). */
export async function lagAfter(db: Db, seq: number): Promise<{ events: number; oldestTs: number | null }> {
  const head = await auditHead(db);
  if (!head || head.seq <= seq) return { events: 0, oldestTs: null };
  const next = await rawGet<{ seq: number; ts: number }>(db, sql`SELECT seq, ts FROM audit_events WHERE seq > ${seq} ORDER BY seq LIMIT 1`);
  if (!next) return { events: 0, oldestTs: null };
  // seq has no gaps in the live log, so the difference counts events without a scan.
  return { events: head.seq - Number(next.seq) + 1, oldestTs: Number(next.ts) };
}

// The writes below open (or join) a write transaction: the SQLite reader connection is read-only.

/** Moves the cursor forward only: a delivery that raced a removal or an older delivery changes nothing. */
export async function advanceSinkCursor(db: Db, id: string, seq: number, now: number): Promise<boolean> {
  const changed = await writeTransaction(db, (tx) =>
    rawRun(
      tx,
      sql`UPDATE audit_sinks SET cursor_seq = ${seq}, last_delivery_at = ${now}, failures = 0 WHERE id = ${id} AND cursor_seq < ${seq}`,
    ),
  );
  return changed === 1;
}

export async function recordSinkDelivery(db: Db, id: string, now: number): Promise<void> {
  await writeTransaction(db, (tx) => rawRun(tx, sql`UPDATE audit_sinks SET last_delivery_at = ${now}, failures = 0 WHERE id = ${id}`));
}

export async function recordSinkFailure(db: Db, id: string, error: string, now: number): Promise<void> {
  await writeTransaction(db, (tx) =>
    rawRun(
      tx,
      sql`UPDATE audit_sinks SET last_error = ${error.slice(0, 500)}, last_error_at = ${now}, failures = failures + 1 WHERE id = ${id}`,
    ),
  );
}

/** The lowest cursor of any sink: retention archives nothing a sink has not been sent. */
export async function lowestSinkCursor(db: Db): Promise<number | null> {
  const r = await rawGet<{ c: number | null }>(db, sql`SELECT MIN(cursor_seq) AS "c" FROM audit_sinks`);
  return r?.c == null ? null : Number(r.c);
}
