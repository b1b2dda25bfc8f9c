import crypto from "node:crypto";

/** 256 random bits, URL-safe, with a prefix that says what the secret is (helps secret scanners). */
export function newSecretToken(prefix: "gk" | "gs" | "gsetup"): string {
  return `${prefix}_${crypto.randomBytes(32).toString("base64url")}`;
}

/** High-entropy tokens need no slow hash: SHA-256 is enough and keeps lookups one index probe. */
export function tokenHash(token: string): string {
  return crypto.createHash("sha256").update(token, "utf8").digest("hex");
}
