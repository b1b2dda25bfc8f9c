import { setTimeout as sleep } from "node:timers/promises";
import { clearLimit, lockSubject, pruneLimits, releaseAttempt, reserveAttempt } from "../../../db/queries/sign-in-limits";
import { bumpSessionVersionByEmail, findUserByEmail, recordSignInSuccess } from "../../../db/queries/users";
import { writeTransaction } from "../../../db/tx";
import { appendAuditEvents, capText } from "../../audit";
import { dummyVerify, MAX_PASSWORD_LENGTH, verifyPassword } from "../../auth/passwords";
import type { ServiceContext } from "../context";

/** An email address is at most 254 characters (RFC 5321's path limit less its brackets). */
export const MAX_EMAIL_LENGTH = 254;

export type SignInLimits = {
  /** Guesses checked per account (known or not) before it locks. */
  perAccount: number;
  /** How long an account stays locked; also the window its guesses are counted in. */
  lockMs: number;
  /** Failed guesses per client address per window, whatever the accounts. */
  perSource: number;
  sourceWindowMs: number;
  /** Refused attempts (locked, throttled) recorded per client address per source window; the rest are refused unrecorded. */
  refusalsRecorded: number;
};

export const SIGN_IN_LIMITS: SignInLimits = {
  perAccount: 5,
  lockMs: 15 * 60 * 1000,
  perSource: 50,
  sourceWindowMs: 15 * 60 * 1000,
  refusalsRecorded: 20,
};

export type SignInResult =
  | { ok: true; user: { id: string; email: string; role: "owner" | "auditor"; sessionVersion: number } }
  | { ok: false; reason: "invalid" | "locked" | "throttled" | "email_too_long" };

/** Delay before answering a failure: grows with the guesses counted, so guessing gets slow. */
export function failureDelayMs(failures: number): number {
  return Math.min(200 * 2 ** Math.max(0, failures - 1), 3000);
}

class Refused extends Error {
  constructor(readonly reason: "locked" | "throttled") {
    super(reason);
  }
}

/**
 * Checks an email and password. A guess is reserved (per account and per source, each check
 * and reservation one statement) before the password is checked, so at most `perAccount`
 * guesses are ever checked per lock window however many arrive together. Unknown emails take
 * the same path: counted, delayed, locked and answered exactly like known ones.
 */
export async function signIn({
  ctx,
  input,
  delay = sleep,
  limits = SIGN_IN_LIMITS,
}: {
  ctx: ServiceContext;
  input: { email: string; password: string; source?: string };
  delay?: (ms: number) => Promise<unknown>;
  limits?: SignInLimits;
}): Promise<SignInResult> {
  const email = String(input.email ?? "")
    .trim()
    .toLowerCase();
  const password = String(input.password ?? "");
  const sourceKey = { scope: "source" as const, subject: capText(String(input.source || "unknown"), 64) };
  const accountKey = { scope: "account" as const, subject: email };
  const now = ctx.now();

  if (email.length > MAX_EMAIL_LENGTH) {
    // Counted against the source like any failure, and recorded only in part.
    const counted = writeTransaction(ctx.db, () => {
      const n = reserveAttempt(ctx.db, sourceKey, { max: limits.perSource, windowMs: limits.sourceWindowMs, now });
      if (n !== null)
        appendAuditEvents(
          ctx.db,
          [
            {
              kind: "access",
              action: "signin.failed",
              actor: capText(email, 80),
              outcome: "refused",
              reason: `email longer than ${MAX_EMAIL_LENGTH} characters`,
            },
          ],
          now,
        );
      return n;
    });
    return { ok: false, reason: counted === null ? "throttled" : "email_too_long" };
  }

  let attempt: number;
  try {
    attempt = writeTransaction(ctx.db, () => {
      pruneLimits(ctx.db, now);
      if (reserveAttempt(ctx.db, sourceKey, { max: limits.perSource, windowMs: limits.sourceWindowMs, now }) === null)
        throw new Refused("throttled");
      const n = reserveAttempt(ctx.db, accountKey, { max: limits.perAccount, windowMs: limits.lockMs, now });
      // Throwing rolls back the source's reservation: nothing was checked.
      if (n === null) throw new Refused("locked");
      return n;
    });
  } catch (err) {
    if (!(err instanceof Refused)) throw err;
    // Refusals check nothing, so they are not counted as guesses; but each would be a row in the
    // append-only log, so one address gets only so many recorded per window.
    writeTransaction(ctx.db, () => {
      if (
        reserveAttempt(
          ctx.db,
          { scope: "refusals", subject: sourceKey.subject },
          { max: limits.refusalsRecorded, windowMs: limits.sourceWindowMs, now },
        ) === null
      )
        return;
      appendAuditEvents(
        ctx.db,
        [
          {
            kind: "access",
            action: "signin.failed",
            actor: email || null,
            outcome: "refused",
            reason: err.reason === "locked" ? "account locked" : `too many failed sign-ins from ${sourceKey.subject}`,
          },
        ],
        now,
      );
    });
    await delay(failureDelayMs(limits.perAccount));
    return { ok: false, reason: err.reason };
  }

  const user = email ? findUserByEmail(ctx.db, email) : undefined;
  // Same work either way: a real verify, or a dummy one of the same cost.
  const good =
    user && password.length <= MAX_PASSWORD_LENGTH
      ? await verifyPassword(user.passwordHash, password)
      : (await dummyVerify(password), false);
  const done = ctx.now();
  if (good && user) {
    writeTransaction(ctx.db, () => {
      clearLimit(ctx.db, accountKey);
      releaseAttempt(ctx.db, sourceKey);
      recordSignInSuccess(ctx.db, user.id, done);
      appendAuditEvents(ctx.db, [{ kind: "access", action: "signin.succeeded", actor: email, outcome: "granted" }], done);
    });
    return { ok: true, user: { id: user.id, email: user.email, role: user.role, sessionVersion: user.sessionVersion } };
  }
  const lockNow = attempt >= limits.perAccount;
  writeTransaction(ctx.db, () => {
    const locked = lockNow && lockSubject(ctx.db, accountKey, done, done + limits.lockMs);
    // A lock also ends the account's dashboard sessions (a no-op for an unknown email).
    if (locked) bumpSessionVersionByEmail(ctx.db, email);
    appendAuditEvents(
      ctx.db,
      [
        {
          kind: "access",
          action: "signin.failed",
          actor: email || null,
          outcome: "refused",
          reason: `${user ? "wrong password" : "unknown email"} (guess ${attempt} of ${limits.perAccount})`,
        },
        ...(locked
          ? [
              {
                kind: "access" as const,
                action: "signin.locked" as const,
                actor: email,
                outcome: "locked",
                reason: `locked for ${limits.lockMs / 60000} minutes after ${attempt} failures`,
              },
            ]
          : []),
      ],
      done,
    );
  });
  await delay(failureDelayMs(attempt));
  return { ok: false, reason: lockNow ? "locked" : "invalid" };
}
