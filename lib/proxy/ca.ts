// The Gatehouse CA: created on first start, its private key sealed by the vault in the
// database; leaf certificates issued per host on demand and kept in a bounded cache.
import fs from "node:fs";
import path from "node:path";
import tls from "node:tls";
import type { Db } from "../../db/client";
import { readCa, storeCaIfAbsent } from "../../db/queries/settings";
import { writeTransaction } from "../../db/tx";
import { CA_KEY_AAD, type Vault } from "../vault";
import { createCertificateAuthority, generateKeyPair, importPrivateKeyPem, issueLeaf, privateKeyPem, type KeyPair } from "./certificates";

const LEAF_CACHE_SIZE = 2000;

/** Creates the CA if there is none; writes the public certificate to <data>/ca.pem. */
export async function ensureCertificateAuthority(db: Db, vault: Vault, dataDir: string): Promise<{ certPem: string; created: boolean }> {
  let { certPem } = await readCa(db);
  let created = false;
  if (!certPem || !(await readCa(db)).keySealed) {
    const ca = await createCertificateAuthority("Gatehouse egress CA");
    const keySealed = vault.seal(ca.keyPem, CA_KEY_AAD);
    created = await writeTransaction(db, (tx) => storeCaIfAbsent(tx, ca.certPem, keySealed));
    certPem = (await readCa(db)).certPem!;
  }
  fs.writeFileSync(path.join(dataDir, "ca.pem"), certPem);
  return { certPem, created };
}

export class LeafIssuer {
  readonly certPem: string;
  readonly #caKey: CryptoKey;
  readonly #leafKeys: KeyPair;
  readonly #leafKeyPem: string;
  readonly #cache = new Map<string, Promise<tls.SecureContext>>();

  private constructor(certPem: string, caKey: CryptoKey, leafKeys: KeyPair, leafKeyPem: string) {
    this.certPem = certPem;
    this.#caKey = caKey;
    this.#leafKeys = leafKeys;
    this.#leafKeyPem = leafKeyPem;
  }

  static async load(db: Db, vault: Vault): Promise<LeafIssuer> {
    const row = await readCa(db);
    if (!row.certPem || !row.keySealed) throw new Error("the Gatehouse CA has not been created");
    const caKey = await importPrivateKeyPem(vault.openBytes(row.keySealed, CA_KEY_AAD).toString("utf8"));
    // One key pair for every leaf: issuance is then a signature, not a key generation.
    const leafKeys = await generateKeyPair();
    return new LeafIssuer(row.certPem, caKey, leafKeys, await privateKeyPem(leafKeys.privateKey));
  }

  /** A TLS context presenting a certificate for exactly this host. */
  contextFor(host: string): Promise<tls.SecureContext> {
    let ctx = this.#cache.get(host);
    if (ctx) {
      // Refresh recency for the LRU.
      this.#cache.delete(host);
      this.#cache.set(host, ctx);
      return ctx;
    }
    ctx = issueLeaf({ host, caCertPem: this.certPem, caKey: this.#caKey, leafKeys: this.#leafKeys }).then((leaf) =>
      tls.createSecureContext({ cert: `${leaf.trim()}\n${this.certPem.trim()}\n`, key: this.#leafKeyPem, minVersion: "TLSv1.2" }),
    );
    ctx.catch(() => this.#cache.delete(host));
    this.#cache.set(host, ctx);
    if (this.#cache.size > LEAF_CACHE_SIZE) this.#cache.delete(this.#cache.keys().next().value!);
    return ctx;
  }
}
