import { desc, eq } from "drizzle-orm";
import type { Db } from "../client";
import { apiKeys } from "../schema";

export function insertApiKey(db: Db, row: typeof apiKeys.$inferInsert) {
  db.insert(apiKeys).values(row).run();
}

export function findApiKeyByHash(db: Db, keyHash: string) {
  return db.select().from(apiKeys).where(eq(apiKeys.keyHash, keyHash)).get();
}

export function findApiKey(db: Db, id: string) {
  return db.select().from(apiKeys).where(eq(apiKeys.id, id)).get();
}

export function listApiKeys(db: Db) {
  return db
    .select({
      id: apiKeys.id,
      name: apiKeys.name,
      role: apiKeys.role,
      prefix: apiKeys.prefix,
      createdBy: apiKeys.createdBy,
      createdAt: apiKeys.createdAt,
      lastUsedAt: apiKeys.lastUsedAt,
      revokedAt: apiKeys.revokedAt,
    })
    .from(apiKeys)
    .orderBy(desc(apiKeys.createdAt))
    .all();
}

export function markApiKeyRevoked(db: Db, id: string, at: number) {
  db.update(apiKeys).set({ revokedAt: at }).where(eq(apiKeys.id, id)).run();
}

export function touchApiKey(db: Db, id: string, at: number) {
  db.update(apiKeys).set({ lastUsedAt: at }).where(eq(apiKeys.id, id)).run();
}
