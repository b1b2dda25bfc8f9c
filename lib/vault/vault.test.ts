import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { inspect } from "node:util";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { loadMasterKey, MasterKeyError, Secret, Vault } from "./index";

const key = () => crypto.randomBytes(32);

describe("Vault", () => {
  it("round-trips any value under the same identity", () => {
    const vault = new Vault(key());
    fc.assert(
      fc.property(fc.string(), fc.string({ minLength: 1 }), (value, identity) => {
        expect(vault.open(vault.seal(value, identity), identity).reveal()).toBe(value);
      }),
    );
  });

  it("uses a fresh nonce per seal", () => {
    const vault = new Vault(key());
    expect(vault.seal("fake-secret", "b/c")).not.toBe(vault.seal("fake-secret", "b/c"));
  });

  it("refuses a sealed value moved to another identity, another key, or tampered with", () => {
    const vault = new Vault(key());
    const sealed = vault.seal("fake-secret", "baseline/github");
    expect(() => vault.open(sealed, "baseline/gitlab")).toThrow(/does not open/);
    expect(() => new Vault(key()).open(sealed, "baseline/github")).toThrow(/does not open/);
    const parts = sealed.split(".");
    const body = Buffer.from(parts[2]!, "base64");
    body[0] = body[0]! ^ 1;
    parts[2] = body.toString("base64");
    expect(() => vault.open(parts.join("."), "baseline/github")).toThrow(/does not open/);
  });

  it("never puts the plaintext in the sealed form or the fingerprint", () => {
    const vault = new Vault(key());
    const secret = "ghp_FAKEFAKEFAKEFAKE0000";
    expect(vault.seal(secret, "x")).not.toContain(secret);
    const fp = vault.fingerprint(secret);
    expect(fp).toMatch(/^[0-9a-f]{4}…[0-9a-f]{4}$/);
    expect(vault.fingerprint(secret)).toBe(fp);
    expect(new Vault(key()).fingerprint(secret)).not.toBe(fp);
  });

  it("detects a different master key through the key check", () => {
    const a = new Vault(key());
    expect(a.verifyKeyCheck(a.makeKeyCheck())).toBe(true);
    expect(new Vault(key()).verifyKeyCheck(a.makeKeyCheck())).toBe(false);
  });
});

describe("Secret", () => {
  it("prints [write-only] every usual way", () => {
    const s = new Secret("fake-token-123");
    expect(String(s)).toBe("[write-only]");
    expect(`${s}`).toBe("[write-only]");
    expect(JSON.stringify({ s })).toBe('{"s":"[write-only]"}');
    expect(inspect(s)).toBe("[write-only]");
    expect(s.reveal()).toBe("fake-token-123");
  });
});

describe("loadMasterKey", () => {
  const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), "gh-key-"));

  it("creates a 0600 key on first use and reads the same key after", () => {
    const dir = tmp();
    const first = loadMasterKey(dir, undefined);
    expect(first.created).toBe(true);
    expect(fs.statSync(path.join(dir, "master.key")).mode & 0o777).toBe(0o600);
    const second = loadMasterKey(dir, undefined);
    expect(second.created).toBe(false);
    expect(second.key.equals(first.key)).toBe(true);
  });

  it("refuses a key of the wrong length from the environment or the file", () => {
    expect(() => loadMasterKey(tmp(), Buffer.alloc(16).toString("base64"))).toThrow(/32 bytes, got 16/);
    expect(() => loadMasterKey(tmp(), "not base64!!")).toThrow(/not base64/);
    const dir = tmp();
    fs.writeFileSync(path.join(dir, "master.key"), Buffer.alloc(31).toString("base64"), { mode: 0o600 });
    expect(() => loadMasterKey(dir, undefined)).toThrow(MasterKeyError);
  });

  it("refuses a key file readable by group or others and leaves it untouched", () => {
    const dir = tmp();
    const file = path.join(dir, "master.key");
    const content = crypto.randomBytes(32).toString("base64");
    fs.writeFileSync(file, content, { mode: 0o644 });
    fs.chmodSync(file, 0o644);
    expect(() => loadMasterKey(dir, undefined)).toThrow(/readable by group or others/);
    expect(fs.readFileSync(file, "utf8")).toBe(content);
  });

  it("takes GATEHOUSE_MASTER_KEY over the file", () => {
    const k = crypto.randomBytes(32);
    expect(loadMasterKey(tmp(), k.toString("base64")).key.equals(k)).toBe(true);
  });
});
