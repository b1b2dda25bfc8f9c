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
  return db.select({ n: sql<number>`count(*)` }).from(users).get()?.n ?? 0;
}

export function listUsers(db: Db) {
  return db
    .select({ id: users.id, email: users.email, role: users.role, createdAt: users.createdAt, lastSignInAt: users.lastSignInAt, lockedUntil: users.lockedUntil })
    .from(users)
    .orderBy(users.email)
    .all();
}

export function insertUser(db: Db, row: { id: string; email: string; role: "owner" | "auditor"; passwordHash: string; createdAt: number }) {
  db.insert(users).values(row).run();
}

export function recordSignInFailure(db: Db, id: string, failedAttempts: number, lockedUntil: number | null) {
  db.update(users).set({ failedAttempts, lockedUntil }).where(eq(users.id, id)).run();
}

export function recordSignInSuccess(db: Db, id: string, at: number) {
  db.update(users).set({ failedAttempts: 0, lockedUntil: null, lastSignInAt: at }).where(eq(users.id, id)).run();
}
