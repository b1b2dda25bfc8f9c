import type { Db } from "./client";

/**
 * One synchronous write transaction, BEGIN IMMEDIATE so the write lock is taken up front: a
 * read-then-write (the audit chain reads the last hash) never fails half-way on SQLITE_BUSY.
 * No `await` inside: better-sqlite3 would commit before it resumes.
 */
export function writeTransaction<T>(db: Db, fn: () => T): T {
  return db.$client.transaction(fn).immediate();
}
