import { and, eq, isNull, sql } from "drizzle-orm";
import type { Db } from "../client";
import { orgSettings, users } from "../schema";

export function readTotp(db: Db, userId: string) {
  return db
    .select({
      id: users.id,
      email: users.email,
      role: users.role,
      oidcSubject: users.oidcSubject,
      secretSealed: users.totpSecretSealed,
      pendingSealed: users.totpPendingSealed,
      lastStep: users.totpLastStep,
      recoveryHashes: users.totpRecoveryHashes,
    })
    .from(users)
    .where(eq(users.id, userId))
    .get();
}

export function writeTotpPending(db: Db, userId: string, sealed: string | null): void {
  db.update(users).set({ totpPendingSealed: sealed }).where(eq(users.id, userId)).run();
}

export function writeTotpEnabled(db: Db, userId: string, row: { secretSealed: string; lastStep: number; recoveryHashes: string[] }): void {
  db.update(users)
    .set({
      totpSecretSealed: row.secretSealed,
      totpPendingSealed: null,
      totpLastStep: row.lastStep,
      totpRecoveryHashes: row.recoveryHashes,
    })
    .where(eq(users.id, userId))
    .run();
}

export function clearTotp(db: Db, userId: string): void {
  db.update(users)
    .set({ totpSecretSealed: null, totpPendingSealed: null, totpLastStep: null, totpRecoveryHashes: null })
    .where(eq(users.id, userId))
    .run();
}

/** Moves the last accepted step forward; false when another sign-in already used this step or a later one. */
export function advanceTotpStep(db: Db, userId: string, step: number): boolean {
  const r = db
    .update(users)
    .set({ totpLastStep: step })
    .where(and(eq(users.id, userId), sql`coalesce(${users.totpLastStep}, -1) < ${step}`))
    .run();
  return r.changes === 1;
}

export function writeRecoveryHashes(db: Db, userId: string, hashes: string[]): void {
  db.update(users).set({ totpRecoveryHashes: hashes }).where(eq(users.id, userId)).run();
}

export function readTotpRequired(db: Db): boolean {
  return db.select({ on: orgSettings.totpRequiredForOwners }).from(orgSettings).where(eq(orgSettings.id, 1)).get()?.on ?? false;
}

export function writeTotpRequired(db: Db, on: boolean): void {
  db.update(orgSettings).set({ totpRequiredForOwners: on }).where(eq(orgSettings.id, 1)).run();
}

/** Local-password Owners without a confirmed second factor. */
export function ownersWithoutTotp(db: Db): string[] {
  return db
    .select({ email: users.email })
    .from(users)
    .where(and(eq(users.role, "owner"), isNull(users.oidcSubject), isNull(users.totpSecretSealed)))
    .all()
    .map((r) => r.email);
}
