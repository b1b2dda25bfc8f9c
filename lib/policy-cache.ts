// The compiled policy for this process, recompiled only when the revision in the database moves
// or a time-bound grant (or report-only window) it holds comes to its end.
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
import { systemClock, type Clock } from "./clock";
import { compilePolicy, type CompiledPolicy, type PolicyDocument } from "./policy";

export type ExpiryListener = (now: number) => void;

export class PolicyNotLoaded extends Error {
  constructor(revision: number) {
    super(`the policy at revision ${revision} is not loaded yet`);
  }
}

/** What a compile reads from the database; kept so that an expiry recompiles without a read. */
type Snapshot = { revision: number; document: PolicyDocument; credentials: Set<string> };

export class PolicyCache {
  #snapshot: Snapshot | null = null;
  #compiled: CompiledPolicy | null = null;
  readonly #db: Db;
  readonly #clock: Clock;
  #revisionStmt: ReturnType<typeof preparePolicyLookups>["revision"] | undefined;
  readonly #listeners = new Set<ExpiryListener>();
  #timer: { at: number; cancel: () => void } | null = null;

  constructor(db: Db, clock: Clock = systemClock) {
    this.#db = db;
    this.#clock = clock;
  }

  get clock(): Clock {
    return this.#clock;
  }

  /** The revision of the compiled policy held (-1: none yet). */
  get revision(): number {
    return this.#snapshot?.revision ?? -1;
  }

  /** Reads the revision and, when it moved, the document and credential set in one snapshot; any backend. */
  async load(): Promise<CompiledPolicy> {
    const revision = await readPolicyRevision(this.#db);
    if (this.#snapshot && revision === this.#snapshot.revision) return this.#fresh();
    const snapshot = await readSnapshot(this.#db, async (tx) => ({
      revision: await readPolicyRevision(tx),
      document: await readPolicyDocument(tx),
      credentials: await credentialIdentities(tx),
    }));
    // Another load may have finished first with a newer snapshot.
    if (!this.#snapshot || snapshot.revision >= this.#snapshot.revision) this.#compile(snapshot);
    return this.#fresh();
  }

  /**
   * The proxy's synchronous read. On SQLite: one indexed read per call (none when the caller
   * already read the revision), a recompile only after a policy write or once the clock passes
   * the next expiry. On PostgreSQL the policy at `revision` must have been loaded (load()) before
   * the revision is handed out; anything else throws (the request gets 503 policy_unavailable).
   */
  current(revision?: number): CompiledPolicy {
    if (this.#db.gh.dialect !== "sqlite") {
      if (this.#snapshot && (revision === undefined || revision === this.#snapshot.revision)) return this.#fresh();
      throw new PolicyNotLoaded(revision ?? -1);
    }
    this.#revisionStmt ??= preparePolicyLookups(this.#db).revision;
    const want = revision ?? (this.#revisionStmt.get() as number | undefined) ?? 0;
    if (!this.#snapshot || want !== this.#snapshot.revision) {
      // Read document, credential set and revision in one snapshot. The reader connection never
      // holds an open transaction across an await (db/tx.ts), so a synchronous one is safe here.
      const snapshot = sqliteOf(this.#db).transaction(() => ({
        revision: (this.#revisionStmt!.get() as number | undefined) ?? 0,
        document: readPolicyDocumentSync(this.#db),
        credentials: credentialIdentitiesSync(this.#db),
      }))();
      this.#compile(snapshot);
    }
    return this.#fresh();
  }

  /** The compiled policy held, recompiled from its snapshot (no read) once the clock passed its next expiry. */
  #fresh(): CompiledPolicy {
    const next = this.#compiled!.nextExpiry;
    if (next !== null && this.#clock.now() >= next) this.#compile(this.#snapshot!);
    return this.#compiled!;
  }

  #compile(snapshot: Snapshot): void {
    this.#compiled = compilePolicy(snapshot.document, { credentialsSet: snapshot.credentials, now: this.#clock.now() });
    this.#snapshot = snapshot;
    this.#schedule();
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
    // The snapshot held is recompiled at the new instant: no database read, so an expiry takes
    // effect even while the database is away (a newer revision arrives through current()/load()).
    if (this.#snapshot) this.#fresh();
    const now = this.#clock.now();
    for (const l of this.#listeners) {
      try {
        l(now);
      } catch {
        // one listener's fault does not keep the others from closing what expired
      }
    }
    this.#schedule();
  }
}

const caches = new WeakMap<Db, PolicyCache>();
/** This process's cache for a database; the first caller's clock is the one it keeps. */
export function policyCache(db: Db, clock: Clock = systemClock): PolicyCache {
  let c = caches.get(db);
  if (!c) caches.set(db, (c = new PolicyCache(db, clock)));
  return c;
}
