import crypto from "node:crypto";
import { Secret } from "./secret";

export class VaultError extends Error {}

const VERSION = "v1";
const KEY_CHECK_PLAINTEXT = "gatehouse-key-check";
const KEY_CHECK_AAD = "org_settings.key_check";

/**
 * Seals and opens values under the master key with AES-256-GCM: a fresh 96-bit nonce per
 * seal and the owner's identity as associated data, so a sealed value moved to another row
 * fails to open.
 */
export class Vault {
  #key!: Buffer;
  #fingerprintKey!: Buffer;

  constructor(masterKey: Buffer) {
    this.rekey(masterKey);
  }

  /** Switches to another master key in place: after `vault rotate-key`, running processes follow. */
  rekey(masterKey: Buffer): void {
    if (masterKey.length !== 32) throw new VaultError("master key must be 32 bytes");
    this.#key = Buffer.from(masterKey);
    this.#fingerprintKey = Buffer.from(crypto.hkdfSync("sha256", masterKey, Buffer.alloc(0), "gatehouse fingerprint v1", 32));
  }

  seal(plaintext: string | Buffer, associatedData: string): string {
    const nonce = crypto.randomBytes(12);
    const cipher = crypto.createCipheriv("aes-256-gcm", this.#key, nonce);
    cipher.setAAD(Buffer.from(associatedData, "utf8"));
    const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    const tag = cipher.getAuthTag();
    return [VERSION, nonce.toString("base64"), body.toString("base64"), tag.toString("base64")].join(".");
  }

  openBytes(sealed: string, associatedData: string): Buffer {
    const parts = sealed.split(".");
    if (parts.length !== 4 || parts[0] !== VERSION) throw new VaultError("sealed value is malformed");
    const [, nonce, body, tag] = parts as [string, string, string, string];
    try {
      const decipher = crypto.createDecipheriv("aes-256-gcm", this.#key, Buffer.from(nonce, "base64"));
      decipher.setAAD(Buffer.from(associatedData, "utf8"));
      decipher.setAuthTag(Buffer.from(tag, "base64"));
      return Buffer.concat([decipher.update(Buffer.from(body, "base64")), decipher.final()]);
    } catch {
      throw new VaultError("sealed value does not open under this key and identity");
    }
  }

  /** The one path to a credential's plaintext; the proxy calls it while attaching. */
  open(sealed: string, associatedData: string): Secret {
    return new Secret(this.openBytes(sealed, associatedData).toString("utf8"));
  }

  /** A short keyed hash an Owner can compare ("is this the key I set?") without revealing it. */
  fingerprint(plaintext: string): string {
    const mac = crypto.createHmac("sha256", this.#fingerprintKey).update(plaintext, "utf8").digest("hex");
    return `${mac.slice(0, 4)}…${mac.slice(-4)}`;
  }

  makeKeyCheck(): string {
    return this.seal(KEY_CHECK_PLAINTEXT, KEY_CHECK_AAD);
  }

  verifyKeyCheck(sealed: string): boolean {
    try {
      return this.openBytes(sealed, KEY_CHECK_AAD).toString("utf8") === KEY_CHECK_PLAINTEXT;
    } catch {
      return false;
    }
  }
}
