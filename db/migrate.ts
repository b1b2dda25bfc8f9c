import path from "node:path";
import { migrate } from "drizzle-orm/better-sqlite3/migrator";
import type { Db } from "./client";

/** Where drizzle-kit writes migrations; resolved from the project root so every entry point agrees. */
export const migrationsFolder = path.join(__dirname, "migrations");

export function migrateDatabase(db: Db): void {
  migrate(db, { migrationsFolder });
  db.$client.prepare("INSERT OR IGNORE INTO org_settings (id) VALUES (1)").run();
}
