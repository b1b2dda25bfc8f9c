// The compiled policy for this process, recompiled only when the revision in the database moves.
// The dashboard, the API, the CLI and the proxy are separate module instances (or processes):
// the database is how a change reaches each of them.
import type { Db } from "../db/client";
import { credentialIdentities, preparePolicyLookups, readPolicyDocument, readPolicyRevision } from "../db/queries/policy";
import { compilePolicy, type CompiledPolicy } from "./policy";

export class PolicyCache {
  #revision = -1;
  #compiled: CompiledPolicy | null = null;
  readonly #db: Db;
  readonly #revisionStmt: ReturnType<typeof preparePolicyLookups>["revision"];

  constructor(db: Db) {
    this.#db = db;
    this.#revisionStmt = preparePolicyLookups(db).revision;
  }

  /**
   * One indexed read per call (none when the caller already read the revision); a recompile
   * only after a policy write.
   */
  current(revision: number = (this.#revisionStmt.get() as number | undefined) ?? 0): CompiledPolicy {
    if (revision !== this.#revision || !this.#compiled) {
      // Read document, credential set and revision in one snapshot.
      const snapshot = this.#db.$client.transaction(() => ({
        revision: readPolicyRevision(this.#db),
        document: readPolicyDocument(this.#db),
        credentials: credentialIdentities(this.#db),
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
