// Sign-in guess counters (see signInLimits in schema.ts). Each statement is one atomic step, so
// requests in flight together cannot all read the same old count.
import type { Db } from "../client";

export type LimitScope = "account" | "source" | "refusals";

const statements = new WeakMap<Db, ReturnType<typeof prepare>>();

function prepare(db: Db) {
  const c = db.$client;
  return {
    // The check and the reservation in one statement: no row comes back when the window is full
    // (or the subject is locked), and nothing changes then.
    reserve: c
      .prepare(
        `INSERT INTO sign_in_limits (scope, subject, attempts, reset_at, locked_at) VALUES (@scope, @subject, 1, @now + @window, NULL)
       ON CONFLICT (scope, subject) DO UPDATE SET
         attempts = CASE WHEN reset_at <= @now THEN 1 ELSE attempts + 1 END,
         locked_at = CASE WHEN reset_at <= @now THEN NULL ELSE locked_at END,
         reset_at = CASE WHEN reset_at <= @now THEN @now + @window ELSE reset_at END
       WHERE reset_at <= @now OR attempts < @max
       RETURNING attempts`,
      )
      .pluck(),
    lock: c.prepare(
      `UPDATE sign_in_limits SET locked_at = @now, reset_at = @until WHERE scope = @scope AND subject = @subject AND locked_at IS NULL`,
    ),
    release: c.prepare(`UPDATE sign_in_limits SET attempts = max(attempts - 1, 0) WHERE scope = @scope AND subject = @subject`),
    clear: c.prepare(`DELETE FROM sign_in_limits WHERE scope = @scope AND subject = @subject`),
    lockedUntil: c
      .prepare(
        `SELECT reset_at FROM sign_in_limits WHERE scope = @scope AND subject = @subject AND locked_at IS NOT NULL AND reset_at > @now`,
      )
      .pluck(),
    prune: c.prepare(`DELETE FROM sign_in_limits WHERE reset_at <= @now`),
  };
}

function s(db: Db) {
  let st = statements.get(db);
  if (!st) statements.set(db, (st = prepare(db)));
  return st;
}

/** Reserves one guess; the guess number within the window, or null when none is left. */
export function reserveAttempt(
  db: Db,
  key: { scope: LimitScope; subject: string },
  opts: { max: number; windowMs: number; now: number },
): number | null {
  const n = s(db).reserve.get({ ...key, max: opts.max, window: opts.windowMs, now: opts.now }) as number | undefined;
  return n ?? null;
}

/** Locks the subject until `until`; true only for the call that locked it. */
export function lockSubject(db: Db, key: { scope: LimitScope; subject: string }, now: number, until: number): boolean {
  return s(db).lock.run({ ...key, now, until }).changes > 0;
}

/** Gives back one reserved guess (a success from that source). */
export function releaseAttempt(db: Db, key: { scope: LimitScope; subject: string }): void {
  s(db).release.run(key);
}

/** Forgets the subject's count and lock (a success, or an Owner's unlock); true when there was one. */
export function clearLimit(db: Db, key: { scope: LimitScope; subject: string }): boolean {
  return s(db).clear.run(key).changes > 0;
}

export function lockedUntil(db: Db, key: { scope: LimitScope; subject: string }, now: number): number | null {
  return (s(db).lockedUntil.get({ ...key, now }) as number | undefined) ?? null;
}

/** Drops rows whose window and lock are over, so guessed emails do not pile up. */
export function pruneLimits(db: Db, now: number): void {
  s(db).prune.run({ now });
}
