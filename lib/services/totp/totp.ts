// TOTP (RFC 6238: SHA-1, 6 digits, 30 s) and recovery codes for local password accounts.
import crypto from "node:crypto";
import { verify } from "otplib";

export const TOTP_PERIOD_S = 30;
/** Codes from one step either side of now are accepted (clock drift); each step only once. */
export const TOTP_TOLERANCE_S = TOTP_PERIOD_S;
export const RECOVERY_CODES = 10;
/** Wrong second-factor codes per account per window before it must wait. */
export const TOTP_ATTEMPTS = 5;
export const TOTP_WINDOW_MS = 15 * 60 * 1000;

/** The sealed secret's associated data: it opens only in its own user's row. */
export const totpAad = (userId: string) => `users.totp:${userId}`;

/** Checks a 6-digit code; the step it matched, or null. `afterStep` refuses a replay. */
export async function verifyTotp(secret: string, code: string, nowMs: number, afterStep: number | null): Promise<number | null> {
  if (!/^\d{6}$/.test(code)) return null;
  const r = await verify({
    secret,
    token: code,
    epoch: Math.floor(nowMs / 1000),
    epochTolerance: TOTP_TOLERANCE_S,
    ...(afterStep !== null ? { afterTimeStep: afterStep } : {}),
  });
  return r.valid && "timeStep" in r ? r.timeStep : null;
}

/** Two groups of 10 from 31 symbols: about 99 bits, so a plain SHA-256 is a fine store. */
export function newRecoveryCodes(): string[] {
  const alphabet = "abcdefghjkmnpqrstuvwxyz23456789";
  const half = () => Array.from(crypto.randomBytes(10), (b) => alphabet[b % alphabet.length]).join("");
  return Array.from({ length: RECOVERY_CODES }, () => `${half()}-${half()}`);
}

export function hashRecoveryCode(code: string): string {
  return crypto.createHash("sha256").update(code.trim().toLowerCase()).digest("hex");
}

export function looksLikeRecoveryCode(code: string): boolean {
  return /^[a-z0-9]{10}-[a-z0-9]{10}$/i.test(code.trim());
}
