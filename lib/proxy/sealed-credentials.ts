// Sealed credentials, kept per policy revision so that no request reads the database for one;
// the plaintext is opened for one request at a time and never kept.
import type { Db } from "../../db/client";
import { preparePolicyLookups } from "../../db/queries/policy";
import { prepareKeyCheckRead } from "../../db/queries/settings";
import { followKeyRotationTo } from "../bootstrap";
import type { Env } from "../env";
import type { EgressJournal } from "../audit/journal";
import type { Secret, Vault } from "../vault";

export class SealedCredentials {
  readonly #d: { db: Db; vault: Vault; env: Env; now: () => number; audit: EgressJournal };
  readonly #sealedCredential: ReturnType<typeof preparePolicyLookups>["sealedCredential"];
  readonly #keyCheck: () => string | null;
  /** Sealed credentials by connection identity (null: none), valid for #sealedRevision. */
  readonly #sealed = new Map<string, string | null>();
  #sealedRevision: number | undefined;
  readonly #credentialTouched = new Map<string, number>();

  constructor(d: { db: Db; vault: Vault; env: Env; now: () => number; audit: EgressJournal }) {
    this.#d = d;
    this.#sealedCredential = preparePolicyLookups(d.db).sealedCredential;
    this.#keyCheck = prepareKeyCheckRead(d.db);
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
    if (sealed === undefined) this.#sealed.set(identity, (sealed = (this.#sealedCredential.get(identity) as string | undefined) ?? null));
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
