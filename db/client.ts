// Opens the shared SQLite database: WAL, foreign keys, a busy timeout so the proxy, the
// dashboard and the CLI can write side by side.
import fs from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";
import { drizzle, type BetterSQLite3Database } from "drizzle-orm/better-sqlite3";
import * as schema from "./schema";

export type Db = BetterSQLite3Database<typeof schema> & { $client: Database.Database };

export function databasePath(dataDir: string): string {
  return path.join(dataDir, "gatehouse.db");
}

export function openDatabase(dataDir: string): Db {
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const file = databasePath(dataDir);
  const sqlite = new Database(file);
  // The audit log and sealed credentials live here: owner-only, like the key file. SQLite gives
  // the -wal and -shm files the database file's mode.
  fs.chmodSync(file, 0o600);
  sqlite.pragma("journal_mode = WAL");
  sqlite.pragma("foreign_keys = ON");
  sqlite.pragma("busy_timeout = 5000");
  sqlite.pragma("synchronous = NORMAL");
  return drizzle(sqlite, { schema }) as Db;
}

/**
 * Commits on this connection no longer checkpoint the WAL themselves: the audit importer thread
 * does it on its own schedule (checkpointWal), so no request-serving thread ever stalls copying it.
 */
export function leaveCheckpointsToImporter(db: Db): void {
  db.$client.pragma("wal_autocheckpoint = 0");
}

/** Copies what it can of the WAL into the database without waiting on readers. */
export function checkpointWal(db: Db): void {
  db.$client.pragma("wal_checkpoint(PASSIVE)");
}

const opened = new Map<string, Db>();
/** One connection per data directory per process. */
export function database(dataDir: string): Db {
  let db = opened.get(dataDir);
  if (!db) {
    db = openDatabase(dataDir);
    opened.set(dataDir, db);
  }
  return db;
}
