import { generateSecret, generateURI } from "otplib";
import QRCode from "qrcode";
import { followKeyRotation } from "../../bootstrap";
import { readTotp, writeTotpEnabled, writeTotpPending } from "../../../db/queries/totp";
import { writeTransaction } from "../../../db/tx";
import { appendAuditEvents } from "../../audit";
import type { Actor } from "../../auth/permissions";
import { AppError } from "../../errors";
import type { ServiceContext } from "../context";
import { hashRecoveryCode, newRecoveryCodes, totpAad, verifyTotp } from "./totp";

type UserActor = Extract<Actor, { type: "user" }>;

function ownLocalAccount(ctx: ServiceContext, actor: Actor | null) {
  if (!actor) throw new AppError("unauthenticated", "sign in to set up a second factor");
  if (actor.type !== "user") throw new AppError("forbidden", "a second factor belongs to a person's own account");
  const row = readTotp(ctx.db, actor.id);
  if (!row) throw new AppError("not_found", "no such user");
  if (row.oidcSubject)
    throw new AppError("conflict", "This account signs in through your identity provider, which handles second factors.");
  return { actor: actor as UserActor, row };
}

/**
 * Starts (or restarts) an enrolment for the signed-in person's own local account: a fresh secret,
 * sealed and pending until a code confirms it. The secret goes back once, for the QR code.
 */
export async function beginTotpEnrolment({
  ctx,
  actor,
}: {
  ctx: ServiceContext;
  actor: Actor | null;
}): Promise<{ secret: string; uri: string; qrDataUrl: string }> {
  const { row } = ownLocalAccount(ctx, actor);
  if (row.secretSealed) throw new AppError("conflict", "A second factor is already set up for this account.");
  // Another process may have rotated the master key since this one loaded it.
  if (!followKeyRotation(ctx.db, ctx.vault, ctx.env))
    throw new AppError("conflict", "the master key changed and this process cannot load the new one; restart Gatehouse");
  const secret = generateSecret();
  const uri = generateURI({ issuer: "Gatehouse", label: row.email, secret });
  const qrDataUrl = await QRCode.toDataURL(uri, { errorCorrectionLevel: "M", margin: 1, width: 200 });
  writeTransaction(ctx.db, () => writeTotpPending(ctx.db, row.id, ctx.vault.seal(secret, totpAad(row.id))));
  return { secret, uri, qrDataUrl };
}

/** Confirms the pending secret with a code from the app; the recovery codes are returned this once and stored hashed. */
export async function confirmTotpEnrolment({
  ctx,
  actor,
  input,
}: {
  ctx: ServiceContext;
  actor: Actor | null;
  input: { code: unknown };
}): Promise<{ recoveryCodes: string[] }> {
  const { row } = ownLocalAccount(ctx, actor);
  if (row.secretSealed) throw new AppError("conflict", "A second factor is already set up for this account.");
  if (!row.pendingSealed) throw new AppError("conflict", "Start the set-up again: no enrolment is pending.");
  const code = String(input.code ?? "")
    .replace(/\s/g, "")
    .slice(0, 16);
  if (!followKeyRotation(ctx.db, ctx.vault, ctx.env))
    throw new AppError("conflict", "the master key changed and this process cannot load the new one; restart Gatehouse");
  const secret = ctx.vault.open(row.pendingSealed, totpAad(row.id));
  const step = await verifyTotp(secret.reveal(), code, ctx.now(), null);
  if (step === null)
    throw new AppError("invalid_field", "code: that code is not right; check the app's clock and try the next one", { field: "code" });
  const recoveryCodes = newRecoveryCodes();
  writeTransaction(ctx.db, () => {
    const now = readTotp(ctx.db, row.id);
    if (now?.pendingSealed !== row.pendingSealed) throw new AppError("conflict", "The set-up changed meanwhile; start again.");
    writeTotpEnabled(ctx.db, row.id, {
      secretSealed: row.pendingSealed!,
      lastStep: step,
      recoveryHashes: recoveryCodes.map(hashRecoveryCode),
    });
    appendAuditEvents(
      ctx.db,
      [{ kind: "access", action: "totp.enabled", actor: row.email, outcome: "enabled", detail: { recoveryCodes: recoveryCodes.length } }],
      ctx.now(),
    );
  });
  return { recoveryCodes };
}
