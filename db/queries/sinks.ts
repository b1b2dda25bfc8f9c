// Audit stream sinks and the rows they read. Async (issue 16's data-access layer); SQLite answers at once.
import { eq } from "drizzle-orm";
import type { Db } from "../client";
import { auditSinks } from "../schema";
import { AUDIT_SELECT, type AuditEventRow } from "./audit";

export type SinkRow = typeof auditSinks.$inferSelect;

export async function listSinks(db: Db): Promise<SinkRow[]> {
  return db.select().from(auditSinks).orderBy(auditSinks.createdAt).all();
}

export async function findSink(db: Db, idOrName: string): Promise<SinkRow | undefined> {
  return (
    db.select().from(auditSinks).where(eq(auditSinks.id, idOrName)).get() ??
    db.select().from(auditSinks).where(eq(auditSinks.name, idOrName)).get()
  );
}

/** The next events after a chain position, in chain order. */
export async function readEventsAfter(db: Db, seq: number, limit: number): Promise<AuditEventRow[]> {
  return db.$client.prepare(`${AUDIT_SELECT} WHERE seq > ? ORDER BY seq LIMIT ?`).all(seq, limit) as AuditEventRow[];
}

export async function auditHead(db: Db): Promise<{ seq: number; ts: number } | null> {
  return (
    (db.$client.prepare("SELECT seq, ts FROM audit_events ORDER BY seq DESC LIMIT 1").get() as { seq: number; ts: number } | undefined) ??
    null
  );
}

/** Events after `seq` and the time of the oldest of them (null when caught up). */
export async function lagAfter(db: Db, seq: number): Promise<{ events: number; oldestTs: number | null }> {
  const head = await auditHead(db);
  if (!head || head.seq <= seq) return { events: 0, oldestTs: null };
  const next = db.$client.prepare("SELECT seq, ts FROM audit_events WHERE seq > ? ORDER BY seq LIMIT 1").get(seq) as
    { seq: number; ts: number } | undefined;
  if (!next) return { events: 0, oldestTs: null };
  // seq has no gaps in the live log, so the difference counts events without a scan.
  return { events: head.seq - next.seq + 1, oldestTs: next.ts };
}

/** Moves the cursor forward only: a delivery that raced a removal or an older delivery changes nothing. */
export async function advanceSinkCursor(db: Db, id: string, seq: number, now: number): Promise<boolean> {
  const r = db.$client
    .prepare("UPDATE audit_sinks SET cursor_seq = ?, last_delivery_at = ?, failures = 0 WHERE id = ? AND cursor_seq < ?")
    .run(seq, now, id, seq);
  return r.changes === 1;
}

export async function recordSinkDelivery(db: Db, id: string, now: number): Promise<void> {
  db.$client.prepare("UPDATE audit_sinks SET last_delivery_at = ?, failures = 0 WHERE id = ?").run(now, id);
}

export async function recordSinkFailure(db: Db, id: string, error: string, now: number): Promise<void> {
  db.$client
    .prepare("UPDATE audit_sinks SET last_error = ?, last_error_at = ?, failures = failures + 1 WHERE id = ?")
    .run(error.slice(0, 500), now, id);
}

/** The lowest cursor of any sink: retention archives nothing a sink has not been sent. */
export async function lowestSinkCursor(db: Db): Promise<number | null> {
  const r = db.$client.prepare("SELECT MIN(cursor_seq) AS c FROM audit_sinks").get() as { c: number | null };
  return r.c;
}
