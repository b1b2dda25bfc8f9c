import { and, eq, isNotNull, sql } from "drizzle-orm";
import type { Db } from "../client";
import { orgSettings, users } from "../schema";

export type StoredOidcSettings = {
  name: string | null;
  issuer: string | null;
  clientId: string | null;
  clientSecretSealed: string | null;
  roleClaim: string | null;
  ownerGroups: string[] | null;
  auditorGroups: string[] | null;
};

export function readOidcSettings(db: Db): StoredOidcSettings | undefined {
  return db
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
    .get();
}

export function writeOidcSettings(db: Db, s: StoredOidcSettings): void {
  db.update(orgSettings)
    .set({
      oidcName: s.name,
      oidcIssuer: s.issuer,
      oidcClientId: s.clientId,
      oidcClientSecretSealed: s.clientSecretSealed,
      oidcRoleClaim: s.roleClaim,
      oidcOwnerGroups: s.ownerGroups,
      oidcAuditorGroups: s.auditorGroups,
    })
    .where(eq(orgSettings.id, 1))
    .run();
}

export function readPasswordSignIn(db: Db): boolean {
  return db.select({ on: orgSettings.passwordSignIn }).from(orgSettings).where(eq(orgSettings.id, 1)).get()?.on ?? true;
}

export function writePasswordSignIn(db: Db, on: boolean): void {
  db.update(orgSettings).set({ passwordSignIn: on }).where(eq(orgSettings.id, 1)).run();
}

export function findUserByOidcIdentity(db: Db, issuer: string, subject: string) {
  return db
    .select()
    .from(users)
    .where(and(eq(users.oidcIssuer, issuer), eq(users.oidcSubject, subject)))
    .get();
}

export function insertOidcUser(
  db: Db,
  row: { id: string; email: string; role: "owner" | "auditor"; issuer: string; subject: string; createdAt: number },
): void {
  // "!" is not an argon2 hash: no password ever verifies against it.
  db.insert(users)
    .values({
      id: row.id,
      email: row.email,
      role: row.role,
      passwordHash: "!",
      oidcIssuer: row.issuer,
      oidcSubject: row.subject,
      createdAt: row.createdAt,
    })
    .run();
}

export function countOidcOwners(db: Db): number {
  return (
    db
      .select({ n: sql<number>`count(*)` })
      .from(users)
      .where(and(eq(users.role, "owner"), isNotNull(users.oidcSubject)))
      .get()?.n ?? 0
  );
}
