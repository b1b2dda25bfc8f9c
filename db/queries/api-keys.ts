import { desc, eq } from "drizzle-orm";
import type { Db } from "../client";
import { writeTransaction } from "../tx";
import type { apiKeys } from "../schema";

export async function insertApiKey(db: Db, row: typeof apiKeys.$inferInsert): Promise<void> {
  // A write: inside the caller's transaction, or one of its own (SQLite's reader is read-only).
  return writeTransaction(db, async (db) => {
    await db.insert(db.t.apiKeys).values(row);
  });
}

export async function findApiKeyByHash(db: Db, keyHash: string) {
  const { apiKeys } = db.t;
  return (await db.select().from(apiKeys).where(eq(apiKeys.keyHash, keyHash)).limit(1))[0];
}

export async function findApiKey(db: Db, id: string) {
  const { apiKeys } = db.t;
  return (await db.select().from(apiKeys).where(eq(apiKeys.id, id)).limit(1))[0];
}

export async function listApiKeys(db: Db) {
  const { apiKeys } = db.t;
  return db
    .select({ id: apiKeys.id, name: apiKeys.name, role: apiKeys.role, prefix: apiKeys.prefix, createdBy: apiKeys.createdBy, createdAt: apiKeys.createdAt, lastUsedAt: apiKeys.lastUsedAt, revokedAt: apiKeys.revokedAt })
    .from(apiKeys)
    .orderBy(desc(apiKeys.createdAt));
}

export async function markApiKeyRevoked(db: Db, id: string, at: number): Promise<void> {
  // A write: inside the caller's transaction, or one of its own (SQLite's reader is read-only).
  return writeTransaction(db, async (db) => {
    const { apiKeys } = db.t;
    await db.update(apiKeys).set({ revokedAt: at }).where(eq(apiKeys.id, id));
  });
}

export async function touchApiKey(db: Db, id: string, at: number): Promise<void> {
  // A write: inside the caller's transaction, or one of its own (SQLite's reader is read-only).
  return writeTransaction(db, async (db) => {
    const { apiKeys } = db.t;
    await db.update(apiKeys).set({ lastUsedAt: at }).where(eq(apiKeys.id, id));
  });
}
