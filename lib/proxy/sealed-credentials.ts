// Sealed credentials, kept per policy revision so that no request reads the database for one;
// the plaintext is opened for one request at a time and never kept. On SQLite each is read on
// first use per revision (a local read); on PostgreSQL all of them are read by reload(), which
// the change feed runs on every policy change before it hands the new revision out.
import type { Db } from "../../db/client";
import { preparePolicyLookups, sealedCredentials } from "../../db/queries/policy";
import { prepareKeyCheckRead, readKeyCheck } from "../../db/queries/settings";
import { followKeyRotationTo } from "../bootstrap";
import type { Env } from "../env";
import type { EgressJournal } from "../audit/journal";
import type { Secret, Vault } from "../vault";

export class SealedCredentials {
  readonly #d: { db: Db; vault: Vault; env: Env; now: () => number; audit: EgressJournal };
  readonly #sealedCredential: (identity: string) => string | null;
  /** Sealed credentials by connection identity (null: none), valid for #sealedRevision. */
  readonly #sealed = new Map<string, string | null>();
  #sealedRevision: number | undefined;
  readonly #credentialTouched = new Map<string, number>();
  readonly #keyCheck: () => string | null;
  /** PostgreSQL: every sealed credential and the key check, as of the last reload. */
  #loaded: { sealed: Map<string, string>; keyCheck: string | null } | null = null;

  constructor(d: { db: Db; vault: Vault; env: Env; now: () => number; audit: EgressJournal }) {
    this.#d = d;
    if (d.db.gh.dialect === "sqlite") {
      const stmt = preparePolicyLookups(d.db).sealedCredential;
      this.#sealedCredential = (identity) => (stmt.get(identity) as string | undefined) ?? null;
      this.#keyCheck = prepareKeyCheckRead(d.db);
    } else {
      // Before the first reload nothing opens: the replica refuses requests until its feed confirms anyway.
      this.#sealedCredential = (identity) => this.#loaded?.sealed.get(identity) ?? null;
      this.#keyCheck = () => this.#loaded?.keyCheck ?? null;
    }
  }

  /** PostgreSQL: reads every sealed credential and the key check (a credential change bumps the policy revision). */
  async reload(): Promise<void> {
    const [sealed, keyCheck] = await Promise.all([sealedCredentials(this.#d.db), readKeyCheck(this.#d.db)]);
    this.#loaded = { sealed, keyCheck };
    this.#sealed.clear();
  }

  /**
   * Decrypts a connection's credential for this one request. The sealed form is kept per policy
   * revision (every credential change bumps it), so no database read is needed on each request.
   */
  open(identity: string, policyRevision: number | undefined): Secret | null {
    if (policyRevision === undefined || policyRevision !== this.#sealedRevision) {
      this.#sealed.clear();
      this.#sealedRevision = policyRevision;
    }
    let sealed = this.#sealed.get(identity);
    if (sealed === undefined) this.#sealed.set(identity, (sealed = this.#sealedCredential(identity)));
    if (!sealed) return null;
    try {
      return this.#d.vault.open(sealed, identity);
    } catch {
      // Another process may have rotated the master key.
      if (!followKeyRotationTo(this.#keyCheck(), this.#d.vault, this.#d.env)) return null;
      try {
        return this.#d.vault.open(sealed, identity);
      } catch {
        return null;
      }
    }
  }

  /** Last use, for the Overview: at most once a minute per credential per process. */
  touch(identity: string): void {
    const now = this.#d.now();
    if (now - (this.#credentialTouched.get(identity) ?? 0) < 60_000) return;
    this.#credentialTouched.set(identity, now);
    this.#d.audit.recordTouch({ touch: "credential", key: identity, at: now });
  }
}
