// Preparing a data directory: shared by `npm start` and the CLI.
import fs from "node:fs";
import { eq } from "drizzle-orm";
import { database, type Db } from "../db/client";
import { migrateDatabase } from "../db/migrate";
import { orgSettings } from "../db/schema";
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
  const settings = db.select({ keyCheck: orgSettings.keyCheck }).from(orgSettings).where(eq(orgSettings.id, 1)).get();
  if (settings?.keyCheck) {
    if (!vault.verifyKeyCheck(settings.keyCheck)) {
      throw new StartupError("master key: this key cannot open the existing data in " + env.dataDir + " (wrong GATEHOUSE_MASTER_KEY or master.key)");
    }
  } else {
    db.update(orgSettings).set({ keyCheck: vault.makeKeyCheck() }).where(eq(orgSettings.id, 1)).run();
  }
  return { db, vault, keyCreated };
}

/**
 * Another process may have rotated the master key: if ours no longer opens the key check, load
 * the key again from where it came from. Returns false when even that key does not fit.
 */
export function followKeyRotation(db: Db, vault: Vault, env: Env): boolean {
  const settings = db.select({ keyCheck: orgSettings.keyCheck }).from(orgSettings).where(eq(orgSettings.id, 1)).get();
  if (!settings?.keyCheck || vault.verifyKeyCheck(settings.keyCheck)) return true;
  try {
    const { key } = loadMasterKey(env.dataDir, env.masterKey, { create: false });
    const candidate = new Vault(key);
    if (!candidate.verifyKeyCheck(settings.keyCheck)) return false;
    vault.rekey(key);
    return true;
  } catch {
    return false;
  }
}
