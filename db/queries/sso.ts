import { and, eq, isNotNull, sql } from "drizzle-orm";
import type { Db } from "../client";
import { writeTransaction } from "../tx";

export type StoredOidcSettings = {
  name: string | null;
  issuer: string | null;
  clientId: string | null;
  clientSecretSealed: string | null;
  roleClaim: string | null;
  ownerGroups: string[] | null;
  auditorGroups: string[] | null;
};

export async function readOidcSettings(db: Db): Promise<StoredOidcSettings | undefined> {
  const { orgSettings } = db.t;
  return (
    await db
      .select({
        name: orgSettings.oidcName,
        issuer: orgSettings.oidcIssuer,
        clientId: orgSettings.oidcClientId,
        clientSecretSealed: orgSettings.oidcClientSecretSealed,
        roleClaim: orgSettings.oidcRoleClaim,
        ownerGroups: orgSettings.oidcOwnerGroups,
        auditorGroups: orgSettings.oidcAuditorGroups,
      })
      .from(orgSettings)
      .where(eq(orgSettings.id, 1))
  )[0];
}

export async function writeOidcSettings(db: Db, s: StoredOidcSettings): Promise<void> {
  // A write: inside the caller's transaction, or one of its own (SQLite's reader is read-only).
  return writeTransaction(db, async (db) => {
    const { orgSettings } = db.t;
    await db
      .update(orgSettings)
      .set({
        oidcName: s.name,
        oidcIssuer: s.issuer,
        oidcClientId: s.clientId,
        oidcClientSecretSealed: s.clientSecretSealed,
        oidcRoleClaim: s.roleClaim,
        oidcOwnerGroups: s.ownerGroups,
        oidcAuditorGroups: s.auditorGroups,
      })
      .where(eq(orgSettings.id, 1));
  });
}

export async function readPasswordSignIn(db: Db): Promise<boolean> {
  const { orgSettings } = db.t;
  return (await db.select({ on: orgSettings.passwordSignIn }).from(orgSettings).where(eq(orgSettings.id, 1)))[0]?.on ?? true;
}

export async function writePasswordSignIn(db: Db, on: boolean): Promise<void> {
  // A write: inside the caller's transaction, or one of its own (SQLite's reader is read-only).
  return writeTransaction(db, async (db) => {
    const { orgSettings } = db.t;
    await db.update(orgSettings).set({ passwordSignIn: on }).where(eq(orgSettings.id, 1));
  });
}

export async function findUserByOidcIdentity(db: Db, issuer: string, subject: string) {
  const { users } = db.t;
  return (await db.select().from(users).where(and(eq(users.oidcIssuer, issuer), eq(users.oidcSubject, subject))).limit(1))[0];
}

export async function insertOidcUser(db: Db, row: { id: string; email: string; role: "owner" | "auditor"; issuer: string; subject: string; createdAt: number }): Promise<void> {
  // A write: inside the caller's transaction, or one of its own (SQLite's reader is read-only).
  return writeTransaction(db, async (db) => {
    // "!" is not an argon2 hash: no password ever verifies against it.
    await db.insert(db.t.users).values({ id: row.id, email: row.email, role: row.role, passwordHash: "!", oidcIssuer: row.issuer, oidcSubject: row.subject, createdAt: row.createdAt });
  });
}

export async function countOidcOwners(db: Db): Promise<number> {
  const { users } = db.t;
  return Number((await db.select({ n: sql<number>`count(*)` }).from(users).where(and(eq(users.role, "owner"), isNotNull(users.oidcSubject))))[0]?.n ?? 0);
}
