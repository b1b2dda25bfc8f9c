// Sign-in guess counters (see signInLimits in schema.ts). Each statement is one atomic step, so
// requests in flight together cannot all read the same old count.
import { sql } from "drizzle-orm";
import type { Db } from "../client";
import { writeTransaction } from "../tx";
import { rawGet, rawRun } from "../raw";

export type LimitScope = "account" | "source" | "refusals";
type Key = { scope: LimitScope; subject: string };

/** Reserves one guess; the guess number within the window, or null when none is left. */
export async function reserveAttempt(db: Db, key: Key, opts: { max: number; windowMs: number; now: number }): Promise<number | null> {
  // A write: inside the caller's transaction, or one of its own (SQLite's reader is read-only).
  return writeTransaction(db, async (db) => {
    const { now, windowMs: window, max } = opts;
    // The check and the reservation in one statement: no row comes back when the window is full
    // (or the subject is locked), and nothing changes then.
    const row = await rawGet<{ attempts: number }>(
      db,
      sql`INSERT INTO sign_in_limits (scope, subject, attempts, reset_at, locked_at) VALUES (${key.scope}, ${key.subject}, 1, ${now + window}, NULL)
         ON CONFLICT (scope, subject) DO UPDATE SET
           attempts = CASE WHEN sign_in_limits.reset_at <= ${now} THEN 1 ELSE sign_in_limits.attempts + 1 END,
           locked_at = CASE WHEN sign_in_limits.reset_at <= ${now} THEN NULL ELSE sign_in_limits.locked_at END,
           reset_at = CASE WHEN sign_in_limits.reset_at <= ${now} THEN ${now + window} ELSE sign_in_limits.reset_at END
         WHERE sign_in_limits.reset_at <= ${now} OR sign_in_limits.attempts < ${max}
         RETURNING attempts`,
    );
    return row ? Number(row.attempts) : null;
  });
}

/** Locks the subject until `until`; true only for the call that locked it. */
export async function lockSubject(db: Db, key: Key, now: number, until: number): Promise<boolean> {
  // A write: inside the caller's transaction, or one of its own (SQLite's reader is read-only).
  return writeTransaction(db, async (db) => {
    return (await rawRun(db, sql`UPDATE sign_in_limits SET locked_at = ${now}, reset_at = ${until} WHERE scope = ${key.scope} AND subject = ${key.subject} AND locked_at IS NULL`)) > 0;
  });
}

/** Gives back one reserved guess (a success from that source). */
export async function releaseAttempt(db: Db, key: Key): Promise<void> {
  // A write: inside the caller's transaction, or one of its own (SQLite's reader is read-only).
  return writeTransaction(db, async (db) => {
    await rawRun(db, sql`UPDATE sign_in_limits SET attempts = CASE WHEN attempts > 0 THEN attempts - 1 ELSE 0 END WHERE scope = ${key.scope} AND subject = ${key.subject}`);
  });
}

/** Forgets the subject's count and lock (a success, or an Owner's unlock); true when there was one. */
export async function clearLimit(db: Db, key: Key): Promise<boolean> {
  // A write: inside the caller's transaction, or one of its own (SQLite's reader is read-only).
  return writeTransaction(db, async (db) => {
    return (await rawRun(db, sql`DELETE FROM sign_in_limits WHERE scope = ${key.scope} AND subject = ${key.subject}`)) > 0;
  });
}

export async function lockedUntil(db: Db, key: Key, now: number): Promise<number | null> {
  const row = await rawGet<{ resetAt: number }>(db, sql`SELECT reset_at AS "resetAt" FROM sign_in_limits WHERE scope = ${key.scope} AND subject = ${key.subject} AND locked_at IS NOT NULL AND reset_at > ${now}`);
  return row ? Number(row.resetAt) : null;
}

/** Drops rows whose window and lock are over, so guessed emails do not pile up. */
export async function pruneLimits(db: Db, now: number): Promise<void> {
  // A write: inside the caller's transaction, or one of its own (SQLite's reader is read-only).
  return writeTransaction(db, async (db) => {
    await rawRun(db, sql`DELETE FROM sign_in_limits WHERE reset_at <= ${now}`);
  });
}
