// The compiled policy for this process, recompiled only when the revision in the database moves
// or a time-bound grant (or report-only window) it holds comes to its end.
// The dashboard, the API, the CLI and the proxy are separate module instances (or processes):
// the database is how a change reaches each of them.
import type { Db } from "../db/client";
import { credentialIdentities, preparePolicyLookups, readPolicyDocument, readPolicyRevision } from "../db/queries/policy";
import { systemClock, type Clock } from "./clock";
import { compilePolicy, type CompiledPolicy } from "./policy";

export type ExpiryListener = (now: number) => void;

export class PolicyCache {
  #revision = -1;
  #compiled: CompiledPolicy | null = null;
  readonly #db: Db;
  readonly #clock: Clock;
  readonly #revisionStmt: ReturnType<typeof preparePolicyLookups>["revision"];
  readonly #listeners = new Set<ExpiryListener>();
  #timer: { at: number; cancel: () => void } | null = null;

  constructor(db: Db, clock: Clock = systemClock) {
    this.#db = db;
    this.#clock = clock;
    this.#revisionStmt = preparePolicyLookups(db).revision;
  }

  get clock(): Clock {
    return this.#clock;
  }

  /** The revision of the compiled policy held (-1: none yet). */
  get revision(): number {
    return this.#revision;
  }

  /**
   * One indexed read per call (none when the caller already read the revision); a recompile
   * only after a policy write or once the clock passes the next expiry.
   */
  current(revision: number = (this.#revisionStmt.get() as number | undefined) ?? 0): CompiledPolicy {
    const now = this.#clock.now();
    const stale = this.#compiled && this.#compiled.nextExpiry !== null && now >= this.#compiled.nextExpiry;
    if (revision !== this.#revision || !this.#compiled || stale) {
      // Read document, credential set and revision in one snapshot.
      const snapshot = this.#db.$client.transaction(() => ({
        revision: readPolicyRevision(this.#db),
        document: readPolicyDocument(this.#db),
        credentials: credentialIdentities(this.#db),
      }))();
      this.#compiled = compilePolicy(snapshot.document, { credentialsSet: snapshot.credentials, now });
      this.#revision = snapshot.revision;
      this.#schedule();
    }
    return this.#compiled;
  }

  /**
   * Calls `listener` at each expiry instant of the policy as this process last read it, after
   * recompiling: the proxy closes what depended on the grant, the sweeper records the expiry.
   */
  onExpiry(listener: ExpiryListener): () => void {
    this.#listeners.add(listener);
    this.#schedule();
    return () => {
      this.#listeners.delete(listener);
      if (this.#listeners.size === 0) this.#cancel();
    };
  }

  #schedule(): void {
    const next = this.#compiled?.nextExpiry ?? null;
    if (this.#listeners.size === 0 || next === null) return this.#cancel();
    if (this.#timer?.at === next) return;
    this.#cancel();
    this.#timer = { at: next, cancel: this.#clock.at(next, () => this.#fire()) };
  }

  #cancel(): void {
    this.#timer?.cancel();
    this.#timer = null;
  }

  #fire(): void {
    this.#timer = null;
    let read = true;
    try {
      this.current();
    } catch {
      read = false; // decisions recompile on the next request anyway; look again in a second
    }
    const now = this.#clock.now();
    for (const l of this.#listeners) {
      try {
        l(now);
      } catch {
        // one listener's fault does not keep the others from closing what expired
      }
    }
    if (read) return this.#schedule();
    const at = now + 1000;
    this.#timer = { at, cancel: this.#clock.at(at, () => this.#fire()) };
  }
}

const caches = new WeakMap<Db, PolicyCache>();
/** This process's cache for a database; the first caller's clock is the one it keeps. */
export function policyCache(db: Db, clock: Clock = systemClock): PolicyCache {
  let c = caches.get(db);
  if (!c) caches.set(db, (c = new PolicyCache(db, clock)));
  return c;
}
