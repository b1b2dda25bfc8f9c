import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";

export class MasterKeyError extends Error {}

export const MASTER_KEY_BYTES = 32;

export function masterKeyPath(dataDir: string): string {
  return path.join(dataDir, "master.key");
}

export function decodeMasterKey(encoded: string, origin: string): Buffer {
  const trimmed = encoded.trim();
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(trimmed)) {
    throw new MasterKeyError(`${origin} is not base64`);
  }
  const key = Buffer.from(trimmed, "base64");
  if (key.length !== MASTER_KEY_BYTES) {
    throw new MasterKeyError(`${origin} must decode to ${MASTER_KEY_BYTES} bytes, got ${key.length}`);
  }
  return key;
}

/**
 * The master key from GATEHOUSE_MASTER_KEY, else `<data>/master.key`, else a new one written
 * there with mode 0600. An existing file is never overwritten; a file readable by group or
 * others is refused rather than silently trusted.
 */
export function loadMasterKey(
  dataDir: string,
  fromEnv: string | undefined,
  opts: { create: boolean } = { create: true },
): { key: Buffer; created: boolean } {
  if (fromEnv !== undefined) return { key: decodeMasterKey(fromEnv, "GATEHOUSE_MASTER_KEY"), created: false };
  const file = masterKeyPath(dataDir);
  let stat: fs.Stats | undefined;
  try {
    stat = fs.statSync(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") {
      throw new MasterKeyError(`${file}: ${(err as NodeJS.ErrnoException).code ?? "cannot stat"}`);
    }
  }
  if (stat) {
    if (!stat.isFile()) throw new MasterKeyError(`${file} is not a regular file`);
    if ((stat.mode & 0o077) !== 0) {
      throw new MasterKeyError(`${file} is readable by group or others (mode ${(stat.mode & 0o777).toString(8)}); chmod 600 it`);
    }
    let text: string;
    try {
      text = fs.readFileSync(file, "utf8");
    } catch (err) {
      throw new MasterKeyError(`${file} cannot be read (${(err as NodeJS.ErrnoException).code})`);
    }
    return { key: decodeMasterKey(text, file), created: false };
  }
  if (!opts.create) throw new MasterKeyError(`${file} does not exist`);
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const key = crypto.randomBytes(MASTER_KEY_BYTES);
  // wx: never clobber a key another process wrote a moment ago.
  fs.writeFileSync(file, key.toString("base64") + "\n", { mode: 0o600, flag: "wx" });
  return { key, created: true };
}
