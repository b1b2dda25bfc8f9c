import { database, type Db } from "../../db/client";
import { env as readEnv, type Env } from "../env";
import { loadMasterKey, Vault } from "../vault";

/** What every verb receives: the database, the vault, the environment and a clock. */
export type ServiceContext = {
  db: Db;
  vault: Vault;
  env: Env;
  now: () => number;
  /** Impact preview: a policy verb derives its document and throws it as a PolicyDraft, writing nothing. */
  draftOnly?: boolean;
};

let shared: ServiceContext | undefined;

/**
 * The process's context. The master key was created (or checked) by the composition root
 * before anything calls this; here it is only read.
 */
export function serviceContext(): ServiceContext {
  if (!shared) {
    const env = readEnv();
    const { key } = loadMasterKey(env.dataDir, env.masterKey, { create: false });
    shared = { db: database(env.dataDir, env.databaseUrl), vault: new Vault(key), env, now: Date.now };
  }
  return shared;
}
