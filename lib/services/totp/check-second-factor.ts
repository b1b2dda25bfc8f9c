import { followKeyRotation } from "../../bootstrap";
import { AppError } from "../../errors";
import { clearLimit, reserveAttempt } from "../../../db/queries/sign-in-limits";
import { advanceTotpStep, readTotp, readTotpRequired, writeRecoveryHashes } from "../../../db/queries/totp";
import { writeTransaction } from "../../../db/tx";
import { appendAuditEvents } from "../../audit";
import type { ServiceContext } from "../context";
import { hashRecoveryCode, looksLikeRecoveryCode, TOTP_ATTEMPTS, TOTP_WINDOW_MS, totpAad, verifyTotp } from "./totp";

export type SecondFactor = "ok" | "required" | "invalid" | "locked" | "enrolment_required";

/**
 * After the password was right: the TOTP code (or a recovery code, each good once) when the
 * account has a second factor. Wrong codes are counted per account in the sign-in limits table,
 * so a known password does not buy unlimited code guesses. An Owner without a second factor is
 * refused while Owners are required to have one.
 */
export async function checkSecondFactor({
  ctx,
  input,
}: {
  ctx: ServiceContext;
  input: { userId: string; code?: unknown };
}): Promise<SecondFactor> {
  const row = readTotp(ctx.db, input.userId);
  if (!row) return "invalid";
  if (!row.secretSealed) {
    if (row.role === "owner" && readTotpRequired(ctx.db)) {
      writeTransaction(ctx.db, () =>
        appendAuditEvents(
          ctx.db,
          [
            {
              kind: "access",
              action: "signin.failed",
              actor: row.email,
              outcome: "refused",
              reason: "Owners must have a second factor; this account has none",
            },
          ],
          ctx.now(),
        ),
      );
      return "enrolment_required";
    }
    return "ok";
  }
  const code = typeof input.code === "string" ? input.code.replace(/\s/g, "").slice(0, 32) : "";
  if (!code) return "required";
  const key = { scope: "account" as const, subject: `totp:${row.id}` };
  const n = writeTransaction(ctx.db, () => reserveAttempt(ctx.db, key, { max: TOTP_ATTEMPTS, windowMs: TOTP_WINDOW_MS, now: ctx.now() }));
  if (n === null) return "locked";
  if (!followKeyRotation(ctx.db, ctx.vault, ctx.env))
    throw new AppError("conflict", "the master key changed and this process cannot load the new one; restart Gatehouse");
  const secret = ctx.vault.open(row.secretSealed, totpAad(row.id));
  const step = looksLikeRecoveryCode(code) ? null : await verifyTotp(secret.reveal(), code, ctx.now(), row.lastStep);
  return writeTransaction(ctx.db, (): SecondFactor => {
    const now = ctx.now();
    if (step !== null && advanceTotpStep(ctx.db, row.id, step)) {
      clearLimit(ctx.db, key);
      return "ok";
    }
    if (looksLikeRecoveryCode(code)) {
      const hashes = readTotp(ctx.db, row.id)?.recoveryHashes ?? [];
      const h = hashRecoveryCode(code);
      if (hashes.includes(h)) {
        writeRecoveryHashes(
          ctx.db,
          row.id,
          hashes.filter((x) => x !== h),
        );
        clearLimit(ctx.db, key);
        appendAuditEvents(
          ctx.db,
          [
            {
              kind: "access",
              action: "totp.recovery_used",
              actor: row.email,
              outcome: "granted",
              reason: `${hashes.length - 1} recovery codes left`,
            },
          ],
          now,
        );
        return "ok";
      }
    }
    appendAuditEvents(
      ctx.db,
      [
        {
          kind: "access",
          action: "signin.failed",
          actor: row.email,
          outcome: "refused",
          reason: `wrong second-factor code (${n} of ${TOTP_ATTEMPTS})`,
        },
      ],
      now,
    );
    return "invalid";
  });
}
