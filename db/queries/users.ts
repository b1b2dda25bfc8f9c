import { eq, sql } from "drizzle-orm";
import type { Db } from "../client";
import { writeTransaction } from "../tx";
import type { users } from "../schema";

export type UserRow = typeof users.$inferSelect;

export async function findUserByEmail(db: Db, email: string): Promise<UserRow | undefined> {
  const { users } = db.t;
  return (await db.select().from(users).where(eq(users.email, email)).limit(1))[0];
}

export async function findUserById(db: Db, id: string): Promise<UserRow | undefined> {
  const { users } = db.t;
  return (await db.select().from(users).where(eq(users.id, id)).limit(1))[0];
}

export async function countUsers(db: Db): Promise<number> {
  const { users } = db.t;
  return Number((await db.select({ n: sql<number>`count(*)` }).from(users))[0]?.n ?? 0);
}

export async function listUsers(db: Db, now: number) {
  const { users } = db.t;
  const rows = await db
    .select({
      id: users.id,
      email: users.email,
      role: users.role,
      createdAt: users.createdAt,
      lastSignInAt: users.lastSignInAt,
      lockedUntil: sql<number | null>`(SELECT reset_at FROM sign_in_limits l WHERE l.scope = 'account' AND l.subject = ${users.email} AND l.locked_at IS NOT NULL AND l.reset_at > ${now})`,
    })
    .from(users)
    .orderBy(users.email);
  return rows.map((r) => ({ ...r, lockedUntil: r.lockedUntil == null ? null : Number(r.lockedUntil) }));
}

export async function insertUser(db: Db, row: { id: string; email: string; role: "owner" | "auditor"; passwordHash: string; createdAt: number }): Promise<void> {
  // A write: inside the caller's transaction, or one of its own (SQLite's reader is read-only).
  return writeTransaction(db, async (db) => {
    await db.insert(db.t.users).values(row);
  });
}

export async function recordSignInSuccess(db: Db, id: string, at: number): Promise<void> {
  // A write: inside the caller's transaction, or one of its own (SQLite's reader is read-only).
  return writeTransaction(db, async (db) => {
    const { users } = db.t;
    await db.update(users).set({ lastSignInAt: at }).where(eq(users.id, id));
  });
}

/** Ends every dashboard session of the user with this email (a no-op for an unknown one). */
export async function bumpSessionVersionByEmail(db: Db, email: string): Promise<void> {
  // A write: inside the caller's transaction, or one of its own (SQLite's reader is read-only).
  return writeTransaction(db, async (db) => {
    const { users } = db.t;
    await db.update(users).set({ sessionVersion: sql`${users.sessionVersion} + 1` }).where(eq(users.email, email));
  });
}

export async function bumpSessionVersion(db: Db, id: string): Promise<void> {
  // A write: inside the caller's transaction, or one of its own (SQLite's reader is read-only).
  return writeTransaction(db, async (db) => {
    const { users } = db.t;
    await db.update(users).set({ sessionVersion: sql`${users.sessionVersion} + 1` }).where(eq(users.id, id));
  });
}

export async function updateUser(db: Db, id: string, change: { role?: "owner" | "auditor"; passwordHash?: string }): Promise<void> {
  // A write: inside the caller's transaction, or one of its own (SQLite's reader is read-only).
  return writeTransaction(db, async (db) => {
    const { users } = db.t;
    await db.update(users).set({ ...change, sessionVersion: sql`${users.sessionVersion} + 1` }).where(eq(users.id, id));
  });
}

export async function deleteUser(db: Db, id: string): Promise<void> {
  // A write: inside the caller's transaction, or one of its own (SQLite's reader is read-only).
  return writeTransaction(db, async (db) => {
    const { users } = db.t;
    await db.delete(users).where(eq(users.id, id));
  });
}

export async function countOwners(db: Db): Promise<number> {
  const { users } = db.t;
  return Number((await db.select({ n: sql<number>`count(*)` }).from(users).where(eq(users.role, "owner")))[0]?.n ?? 0);
}
