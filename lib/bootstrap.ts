// Preparing a data directory: shared by `npm start` and the CLI.
import fs from "node:fs";
import { database, type Db } from "../db/client";
import { migrateDatabase } from "../db/migrate";
import { readKeyCheck, writeKeyCheck } from "../db/queries/settings";
import type { Env } from "./env";
import { loadMasterKey, MasterKeyError, Vault } from "./vault";

export class StartupError extends Error {}

/**
 * Migrates the database and loads (or, on first start, creates) the master key, then proves
 * the key opens the existing data. Nothing that exists is overwritten.
 */
export function prepareDataDir(env: Env, opts: { createKey: boolean }): { db: Db; vault: Vault; keyCreated: boolean } {
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
  const db = database(env.dataDir);
  migrateDatabase(db);
  const keyCheck = readKeyCheck(db);
  if (keyCheck) {
    if (!vault.verifyKeyCheck(keyCheck)) {
      throw new StartupError(
        "master key: this key cannot open the existing data in " + env.dataDir + " (wrong GATEHOUSE_MASTER_KEY or master.key)",
      );
    }
  } else {
    writeKeyCheck(db, vault.makeKeyCheck());
  }
  return { db, vault, keyCreated };
}

/**
 * Another process may have rotated the master key: if ours no longer opens the key check, load
 * the key again from where it came from. Returns false when even that key does not fit.
 */
export function followKeyRotation(db: Db, vault: Vault, env: Env): boolean {
  const keyCheck = readKeyCheck(db);
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
