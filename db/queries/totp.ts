import { and, eq, isNull, sql } from "drizzle-orm";
import type { Db } from "../client";
import { writeTransaction } from "../tx";
import { changes } from "../raw";

export async function readTotp(db: Db, userId: string) {
  const { users } = db.t;
  return (
    await db
      .select({ id: users.id, email: users.email, role: users.role, oidcSubject: users.oidcSubject, secretSealed: users.totpSecretSealed, pendingSealed: users.totpPendingSealed, lastStep: users.totpLastStep, recoveryHashes: users.totpRecoveryHashes })
      .from(users)
      .where(eq(users.id, userId))
      .limit(1)
  )[0];
}

export async function writeTotpPending(db: Db, userId: string, sealed: string | null): Promise<void> {
  // A write: inside the caller's transaction, or one of its own (SQLite's reader is read-only).
  return writeTransaction(db, async (db) => {
    const { users } = db.t;
    await db.update(users).set({ totpPendingSealed: sealed }).where(eq(users.id, userId));
  });
}

export async function writeTotpEnabled(db: Db, userId: string, row: { secretSealed: string; lastStep: number; recoveryHashes: string[] }): Promise<void> {
  // A write: inside the caller's transaction, or one of its own (SQLite's reader is read-only).
  return writeTransaction(db, async (db) => {
    const { users } = db.t;
    await db.update(users).set({ totpSecretSealed: row.secretSealed, totpPendingSealed: null, totpLastStep: row.lastStep, totpRecoveryHashes: row.recoveryHashes }).where(eq(users.id, userId));
  });
}

export async function clearTotp(db: Db, userId: string): Promise<void> {
  // A write: inside the caller's transaction, or one of its own (SQLite's reader is read-only).
  return writeTransaction(db, async (db) => {
    const { users } = db.t;
    await db.update(users).set({ totpSecretSealed: null, totpPendingSealed: null, totpLastStep: null, totpRecoveryHashes: null }).where(eq(users.id, userId));
  });
}

/** Moves the last accepted step forward; false when another sign-in already used this step or a later one. */
export async function advanceTotpStep(db: Db, userId: string, step: number): Promise<boolean> {
  // A write: inside the caller's transaction, or one of its own (SQLite's reader is read-only).
  return writeTransaction(db, async (db) => {
    const { users } = db.t;
    const r = await db.update(users).set({ totpLastStep: step }).where(and(eq(users.id, userId), sql`coalesce(${users.totpLastStep}, -1) < ${step}`));
    return changes(r) === 1;
  });
}

export async function writeRecoveryHashes(db: Db, userId: string, hashes: string[]): Promise<void> {
  // A write: inside the caller's transaction, or one of its own (SQLite's reader is read-only).
  return writeTransaction(db, async (db) => {
    const { users } = db.t;
    await db.update(users).set({ totpRecoveryHashes: hashes }).where(eq(users.id, userId));
  });
}

export async function readTotpRequired(db: Db): Promise<boolean> {
  const { orgSettings } = db.t;
  return (await db.select({ on: orgSettings.totpRequiredForOwners }).from(orgSettings).where(eq(orgSettings.id, 1)))[0]?.on ?? false;
}

export async function writeTotpRequired(db: Db, on: boolean): Promise<void> {
  // A write: inside the caller's transaction, or one of its own (SQLite's reader is read-only).
  return writeTransaction(db, async (db) => {
    const { orgSettings } = db.t;
    await db.update(orgSettings).set({ totpRequiredForOwners: on }).where(eq(orgSettings.id, 1));
  });
}

/** Local-password Owners without a confirmed second factor. */
export async function ownersWithoutTotp(db: Db): Promise<string[]> {
  const { users } = db.t;
  return (await db.select({ email: users.email }).from(users).where(and(eq(users.role, "owner"), isNull(users.oidcSubject), isNull(users.totpSecretSealed)))).map((r) => r.email);
}
