import { setTimeout as sleep } from "node:timers/promises";
import { findUserByEmail, recordSignInFailure, recordSignInSuccess } from "../../../db/queries/users";
import { writeTransaction } from "../../../db/tx";
import { appendAuditEvents } from "../../audit";
import { dummyVerify, verifyPassword } from "../../auth/passwords";
import type { ServiceContext } from "../context";

export const LOCK_AFTER_FAILURES = 5;
export const LOCK_MS = 15 * 60 * 1000;

export type SignInResult =
  | { ok: true; user: { id: string; email: string; role: "owner" | "auditor" } }
  | { ok: false; reason: "invalid" | "locked" };

/** Delay before answering a failure: grows with consecutive failures, so guessing gets slow. */
export function failureDelayMs(failures: number): number {
  return Math.min(200 * 2 ** Math.max(0, failures - 1), 3000);
}

/**
 * Checks an email and password. Unknown emails cost the same as known ones; five failures in a
 * row lock the account for 15 minutes, during which even the right password is refused.
 */
export async function signIn({ ctx, input, delay = sleep }: { ctx: ServiceContext; input: { email: string; password: string }; delay?: (ms: number) => Promise<unknown> }): Promise<SignInResult> {
  const email = String(input.email ?? "").trim().toLowerCase();
  const password = String(input.password ?? "");
  const user = email ? findUserByEmail(ctx.db, email) : undefined;
  if (!user) {
    await dummyVerify(password);
    writeTransaction(ctx.db, () =>
      appendAuditEvents(ctx.db, [{ kind: "access", action: "signin.failed", actor: email || null, outcome: "refused", reason: "unknown email or wrong password" }], ctx.now()),
    );
    await delay(failureDelayMs(1));
    return { ok: false, reason: "invalid" };
  }
  const now = ctx.now();
  if (user.lockedUntil && user.lockedUntil > now) {
    writeTransaction(ctx.db, () =>
      appendAuditEvents(ctx.db, [{ kind: "access", action: "signin.failed", actor: email, outcome: "refused", reason: `account locked until ${new Date(user.lockedUntil!).toISOString()}` }], now),
    );
    await delay(failureDelayMs(LOCK_AFTER_FAILURES));
    return { ok: false, reason: "locked" };
  }
  const good = await verifyPassword(user.passwordHash, password);
  if (good) {
    writeTransaction(ctx.db, () => {
      recordSignInSuccess(ctx.db, user.id, now);
      appendAuditEvents(ctx.db, [{ kind: "access", action: "signin.succeeded", actor: email, outcome: "granted" }], now);
    });
    return { ok: true, user: { id: user.id, email: user.email, role: user.role } };
  }
  // A lock that has expired starts a fresh count.
  const failures = (user.lockedUntil && user.lockedUntil <= now ? 0 : user.failedAttempts) + 1;
  const lock = failures >= LOCK_AFTER_FAILURES;
  writeTransaction(ctx.db, () => {
    recordSignInFailure(ctx.db, user.id, lock ? 0 : failures, lock ? now + LOCK_MS : null);
    appendAuditEvents(
      ctx.db,
      [
        { kind: "access", action: "signin.failed", actor: email, outcome: "refused", reason: `wrong password (${failures} in a row)` },
        ...(lock ? [{ kind: "access" as const, action: "signin.locked" as const, actor: email, outcome: "locked", reason: `locked for ${LOCK_MS / 60000} minutes after ${failures} failures` }] : []),
      ],
      now,
    );
  });
  await delay(failureDelayMs(failures));
  return { ok: false, reason: lock ? "locked" : "invalid" };
}
