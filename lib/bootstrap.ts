// Preparing a data directory: shared by `npm start` and the CLI.
import fs from "node:fs";
import { sql } from "drizzle-orm";
import { database, describeDatabaseUrl, type Db } from "../db/client";
import { rawGet } from "../db/raw";
import { migrateDatabase } from "../db/migrate";
import { readKeyCheck, writeKeyCheck } from "../db/queries/settings";
import { writeTransaction } from "../db/tx";
import type { Env } from "./env";
import { loadMasterKey, MasterKeyError, Vault } from "./vault";

export class StartupError extends Error {}

/**
 * Migrates the database and loads (or, on first start, creates) the master key, then proves
 * the key opens the existing data. Nothing that exists is overwritten.
 */
export async function prepareDataDir(env: Env, opts: { createKey: boolean }): Promise<{ db: Db; vault: Vault; keyCreated: boolean }> {
  try {
    fs.mkdirSync(env.dataDir, { recursive: true, mode: 0o700 });
  } catch (err) {
    throw new StartupError(`data directory ${env.dataDir}: ${(err as NodeJS.ErrnoException).code}`);
  }
  let key: Buffer;
  let keyCreated = false;
  try {
    ({ key, created: keyCreated } = loadMasterKey(env.dataDir, env.masterKey, { create: opts.createKey }));
  } catch (err) {
    if (err instanceof MasterKeyError) throw new StartupError(`master key: ${err.message}`);
    throw err;
  }
  const vault = new Vault(key);
  const db = database(env.dataDir, env.databaseUrl);
  if (env.databaseUrl) await reachPostgres(db, env.databaseUrl);
  await migrateDatabase(db);
  const keyCheck = await readKeyCheck(db);
  const where = env.databaseUrl ? `the database at ${describeDatabaseUrl(env.databaseUrl)}` : env.dataDir;
  if (keyCheck) {
    if (!vault.verifyKeyCheck(keyCheck)) {
      throw new StartupError(`master key: this key cannot open the existing data in ${where} (wrong GATEHOUSE_MASTER_KEY or master.key)`);
    }
  } else {
    // Replicas starting together on an empty database: the first key check written wins, and
    // a replica with another key then refuses to start.
    await writeTransaction(db, async (tx) => {
      if (!(await readKeyCheck(tx))) await writeKeyCheck(tx, vault.makeKeyCheck());
    });
    const stored = await readKeyCheck(db);
    if (!stored || !vault.verifyKeyCheck(stored)) throw new StartupError(`master key: this key cannot open the existing data in ${where} (another replica's key was stored first)`);
  }
  return { db, vault, keyCreated };
}

/** One clear line when PostgreSQL cannot be reached: where (host:port, never the password) and why. */
async function reachPostgres(db: Db, url: string): Promise<void> {
  try {
    await rawGet(db, sql`SELECT 1 AS one`);
  } catch (err) {
    // drizzle wraps the driver's error; pg's messages may quote the user or database name, so
    // only the code is shown (ECONNREFUSED, ENOTFOUND, 28P01 for a refused password…).
    const e = err as Error & { code?: string; cause?: { code?: string; message?: string } };
    const code = e.code ?? e.cause?.code;
    const why = code ?? (/timeout/i.test(e.cause?.message ?? e.message) ? "timed out" : "no answer");
    throw new StartupError(`database: cannot reach PostgreSQL at ${describeDatabaseUrl(url)} (${why})`);
  }
}

/**
 * Another process may have rotated the master key: if ours no longer opens the key check, load
 * the key again from where it came from. Returns false when even that key does not fit.
 */
export async function followKeyRotation(db: Db, vault: Vault, env: Env): Promise<boolean> {
  return followKeyRotationTo(await readKeyCheck(db), vault, env);
}

/** followKeyRotation with the key check already read (the proxy keeps it in memory). */
export function followKeyRotationTo(keyCheck: string | null, vault: Vault, env: Env): boolean {
  if (!keyCheck || vault.verifyKeyCheck(keyCheck)) return true;
  try {
    const { key } = loadMasterKey(env.dataDir, env.masterKey, { create: false });
    const candidate = new Vault(key);
    if (!candidate.verifyKeyCheck(keyCheck)) return false;
    vault.rekey(key);
    return true;
  } catch {
    return false;
  }
}
