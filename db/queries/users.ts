import { eq, sql } from "drizzle-orm";
import type { Db } from "../client";
import { users } from "../schema";

export type UserRow = typeof users.$inferSelect;

export function findUserByEmail(db: Db, email: string): UserRow | undefined {
  return db.select().from(users).where(eq(users.email, email)).get();
}

export function findUserById(db: Db, id: string): UserRow | undefined {
  return db.select().from(users).where(eq(users.id, id)).get();
}

export function countUsers(db: Db): number {
  return (
    db
      .select({ n: sql<number>`count(*)` })
      .from(users)
      .get()?.n ?? 0
  );
}

export function listUsers(db: Db, now: number) {
  return db
    .select({
      id: users.id,
      email: users.email,
      role: users.role,
      createdAt: users.createdAt,
      lastSignInAt: users.lastSignInAt,
      lockedUntil: sql<
        number | null
      >`(SELECT reset_at FROM sign_in_limits l WHERE l.scope = 'account' AND l.subject = ${users.email} AND l.locked_at IS NOT NULL AND l.reset_at > ${now})`,
    })
    .from(users)
    .orderBy(users.email)
    .all();
}

export function insertUser(db: Db, row: { id: string; email: string; role: "owner" | "auditor"; passwordHash: string; createdAt: number }) {
  db.insert(users).values(row).run();
}

export function recordSignInSuccess(db: Db, id: string, at: number) {
  db.update(users).set({ lastSignInAt: at }).where(eq(users.id, id)).run();
}

/** Ends every dashboard session of the user with this email (a no-op for an unknown one). */
export function bumpSessionVersionByEmail(db: Db, email: string): void {
  db.update(users)
    .set({ sessionVersion: sql`${users.sessionVersion} + 1` })
    .where(eq(users.email, email))
    .run();
}

export function bumpSessionVersion(db: Db, id: string): void {
  db.update(users)
    .set({ sessionVersion: sql`${users.sessionVersion} + 1` })
    .where(eq(users.id, id))
    .run();
}

export function updateUser(db: Db, id: string, change: { role?: "owner" | "auditor"; passwordHash?: string }): void {
  db.update(users)
    .set({ ...change, sessionVersion: sql`${users.sessionVersion} + 1` })
    .where(eq(users.id, id))
    .run();
}

export function deleteUser(db: Db, id: string): void {
  db.delete(users).where(eq(users.id, id)).run();
}

export function countOwners(db: Db): number {
  return (
    db
      .select({ n: sql<number>`count(*)` })
      .from(users)
      .where(eq(users.role, "owner"))
      .get()?.n ?? 0
  );
}
