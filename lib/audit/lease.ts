// A lease row: the one process (of several replicas or several CLI runs on one database) that may
// do a piece of work now. Held for `ttlMs` and renewed by its holder; taken over once it expires.
import crypto from "node:crypto";
import type { Db } from "../../db/client";

export const processHolder = `${process.pid}-${crypto.randomBytes(6).toString("hex")}`;

export async function tryLease(db: Db, name: string, holder: string, ttlMs: number, now: number): Promise<boolean> {
  const r = db.$client
    .prepare(
      `INSERT INTO leases (name, holder, expires_at) VALUES (?, ?, ?)
       ON CONFLICT(name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
       WHERE leases.holder = excluded.holder OR leases.expires_at < ?`,
    )
    .run(name, holder, now + ttlMs, now);
  return r.changes === 1;
}

export async function releaseLease(db: Db, name: string, holder: string): Promise<void> {
  db.$client.prepare("DELETE FROM leases WHERE name = ? AND holder = ?").run(name, holder);
}
