// Raw SQL on either backend (drizzle's `sql` template renders `?` or `$n` for the dialect).
// Column aliases are double-quoted: PostgreSQL folds unquoted ones to lower case.
import type { SQL } from "drizzle-orm";
import type { Db } from "./client";

type SqliteRunner = { all(q: SQL): unknown[]; run(q: SQL): { changes: number } };
type PgRunner = { execute(q: SQL): Promise<{ rows: unknown[]; rowCount: number | null }> };

export async function rawAll<T>(db: Db, q: SQL): Promise<T[]> {
  if (db.gh.dialect === "sqlite") return (db as unknown as SqliteRunner).all(q) as T[];
  return (await (db as unknown as PgRunner).execute(q)).rows as T[];
}

export async function rawGet<T>(db: Db, q: SQL): Promise<T | undefined> {
  return (await rawAll<T>(db, q))[0];
}

/** Runs a statement; how many rows it changed. */
export async function rawRun(db: Db, q: SQL): Promise<number> {
  if (db.gh.dialect === "sqlite") return (db as unknown as SqliteRunner).run(q).changes;
  return (await (db as unknown as PgRunner).execute(q)).rowCount ?? 0;
}

/** Rows changed by an awaited insert/update/delete builder, on either driver. */
export function changes(result: unknown): number {
  const r = result as { changes?: number; rowCount?: number | null };
  return r.changes ?? r.rowCount ?? 0;
}
