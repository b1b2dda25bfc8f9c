import path from "node:path";
import { sql } from "drizzle-orm";
import { migrate as migrateSqlite } from "drizzle-orm/better-sqlite3/migrator";
import { drizzle } from "drizzle-orm/node-postgres";
import { migrate as migratePg } from "drizzle-orm/node-postgres/migrator";
import type { Db } from "./client";

/** Where drizzle-kit writes migrations; resolved from the project root so every entry point agrees. */
export const migrationsFolder = path.join(__dirname, "migrations");
export const pgMigrationsFolder = path.join(__dirname, "migrations-pg");

/** Any number, the same in every replica: the session-level lock replicas take to migrate one at a time. */
const MIGRATE_LOCK = 0x6761_7465; // "gate"

export async function migrateDatabase(db: Db): Promise<void> {
  const b = db.gh.backend;
  if (b.kind === "sqlite") {
    const writer = b.writer();
    await b.mutex.run(async () => {
      migrateSqlite(writer as never, { migrationsFolder });
      writer.run(sql`INSERT OR IGNORE INTO org_settings (id) VALUES (1)`);
    });
    return;
  }
  // Replicas started together: the first migrates, the others wait, then find nothing to do.
  const client = await b.pool.connect();
  try {
    await client.query("SELECT pg_advisory_lock($1)", [MIGRATE_LOCK]);
    try {
      // The migrations table beside the tables (public), as on SQLite, so health checks read one name.
      await migratePg(drizzle(client), { migrationsFolder: pgMigrationsFolder, migrationsSchema: "public" });
      await client.query("INSERT INTO org_settings (id) VALUES (1) ON CONFLICT (id) DO NOTHING");
    } finally {
      await client.query("SELECT pg_advisory_unlock($1)", [MIGRATE_LOCK]);
    }
  } finally {
    client.release();
  }
}
