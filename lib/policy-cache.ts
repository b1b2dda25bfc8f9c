// The compiled policy for this process, recompiled only when the revision in the database moves.
// The dashboard, the API, the CLI and the proxy are separate module instances (or processes):
// the database is how a change reaches each of them.
import { sqliteOf, type Db } from "../db/client";
import {
  credentialIdentities,
  credentialIdentitiesSync,
  preparePolicyLookups,
  readPolicyDocument,
  readPolicyDocumentSync,
  readPolicyRevision,
} from "../db/queries/policy";
import { readSnapshot } from "../db/tx";
import { compilePolicy, type CompiledPolicy } from "./policy";

export class PolicyNotLoaded extends Error {
  constructor(revision: number) {
    super(`the policy at revision ${revision} is not loaded yet`);
  }
}

export class PolicyCache {
  #revision = -1;
  #compiled: CompiledPolicy | null = null;
  readonly #db: Db;
  #revisionStmt: ReturnType<typeof preparePolicyLookups>["revision"] | undefined;

  constructor(db: Db) {
    this.#db = db;
  }

  /** The revision of the compiled policy held (-1: none yet). */
  get revision(): number {
    return this.#revision;
  }

  /** Reads the revision and, when it moved, the document and credential set in one snapshot; any backend. */
  async load(): Promise<CompiledPolicy> {
    const revision = await readPolicyRevision(this.#db);
    if (revision === this.#revision && this.#compiled) return this.#compiled;
    const snapshot = await readSnapshot(this.#db, async (tx) => ({
      revision: await readPolicyRevision(tx),
      document: await readPolicyDocument(tx),
      credentials: await credentialIdentities(tx),
    }));
    // Another load may have finished first with a newer snapshot.
    if (snapshot.revision >= this.#revision || !this.#compiled) {
      this.#compiled = compilePolicy(snapshot.document, { credentialsSet: snapshot.credentials });
      this.#revision = snapshot.revision;
    }
    return this.#compiled!;
  }

  /**
   * The proxy's synchronous read. On SQLite: one indexed read per call (none when the caller
   * already read the revision), a recompile only after a policy write. On PostgreSQL the policy
   * at `revision` must have been loaded (load()) before the revision is handed out; anything
   * else throws (the request gets 503 policy_unavailable).
   */
  current(revision?: number): CompiledPolicy {
    if (this.#db.gh.dialect !== "sqlite") {
      if (this.#compiled && (revision === undefined || revision === this.#revision)) return this.#compiled;
      throw new PolicyNotLoaded(revision ?? -1);
    }
    this.#revisionStmt ??= preparePolicyLookups(this.#db).revision;
    const want = revision ?? (this.#revisionStmt.get() as number | undefined) ?? 0;
    if (want !== this.#revision || !this.#compiled) {
      // Read document, credential set and revision in one snapshot. The reader connection never
      // holds an open transaction across an await (db/tx.ts), so a synchronous one is safe here.
      const snapshot = sqliteOf(this.#db).transaction(() => ({
        revision: (this.#revisionStmt!.get() as number | undefined) ?? 0,
        document: readPolicyDocumentSync(this.#db),
        credentials: credentialIdentitiesSync(this.#db),
      }))();
      this.#compiled = compilePolicy(snapshot.document, { credentialsSet: snapshot.credentials });
      this.#revision = snapshot.revision;
    }
    return this.#compiled;
  }
}

const caches = new WeakMap<Db, PolicyCache>();
export function policyCache(db: Db): PolicyCache {
  let c = caches.get(db);
  if (!c) caches.set(db, (c = new PolicyCache(db)));
  return c;
}
