// A lease row: the one process (of several replicas or several CLI runs on one database) that may
// do a piece of work now. Held for `ttlMs` and renewed by its holder; taken over once it expires.
import crypto from "node:crypto";
import { sql } from "drizzle-orm";
import type { Db } from "../../db/client";
import { rawRun } from "../../db/raw";
import { writeTransaction } from "../../db/tx";

export const processHolder = `${process.pid}-${crypto.randomBytes(6).toString("hex")}`;

export async function tryLease(db: Db, name: string, holder: string, ttlMs: number, now: number): Promise<boolean> {
  const changed = await writeTransaction(db, (tx) =>
    rawRun(
      tx,
      sql`INSERT INTO leases (name, holder, expires_at) VALUES (${name}, ${holder}, ${now + ttlMs})
          ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
          WHERE leases.holder = excluded.holder OR leases.expires_at < ${now}`,
    ),
  );
  return changed === 1;
}

export async function releaseLease(db: Db, name: string, holder: string): Promise<void> {
  await writeTransaction(db, (tx) => rawRun(tx, sql`DELETE FROM leases WHERE name = ${name} AND holder = ${holder}`));
}
