import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import type { CliIo } from "./io";
import { run } from "./main";

function io(env: Record<string, string>, stdin = ""): CliIo & { stdout: string; stderr: string } {
  const o = {
    stdout: "",
    stderr: "",
    out: (t: string) => void (o.stdout += t),
    err: (t: string) => void (o.stderr += t),
    readStdin: async () => stdin,
    env: env as NodeJS.ProcessEnv,
    stdinIsTty: false,
  };
  return o;
}

const dataDir = () => fs.mkdtempSync(path.join(os.tmpdir(), "gh-cli-"));

describe("gatehouse CLI", () => {
  it("exits 2 with usage for no command, an unknown command, a missing or bad flag", async () => {
    for (const argv of [[], ["frobnicate"], ["apikey", "create", "--name", "x"], ["apikey", "create", "--name", "x", "--role", "root"], ["user", "add", "--email"], ["apikey", "create", "--name", "x", "--role", "owner", "--bogus", "1"]]) {
      const o = io({ GATEHOUSE_DATA_DIR: dataDir() });
      expect(await run(argv, o), argv.join(" ")).toBe(2);
      expect(o.stderr).toContain("usage");
      expect(o.stdout).toBe("");
    }
  });

  it("apikey create prints only the key; the database holds its hash", async () => {
    const dir = dataDir();
    const o = io({ GATEHOUSE_DATA_DIR: dir });
    expect(await run(["apikey", "create", "--name", "ci", "--role", "orchestrator"], o)).toBe(0);
    const key = o.stdout.trim();
    expect(o.stdout).toBe(key + "\n");
    const db = new Database(path.join(dir, "gatehouse.db"), { readonly: true });
    const dump = JSON.stringify(db.prepare("SELECT * FROM api_keys").all());
    db.close();
    expect(dump).not.toContain(key);
    expect(dump).toContain('"role":"orchestrator"');
  });

  it("user add reads the password from the environment or stdin and refuses a weak one", async () => {
    const dir = dataDir();
    expect(await run(["user", "add", "--email", "a@example.test", "--role", "auditor"], io({ GATEHOUSE_DATA_DIR: dir, GATEHOUSE_PASSWORD: "auditor-password-1" }))).toBe(0);
    expect(await run(["user", "add", "--email", "b@example.test", "--role", "owner"], io({ GATEHOUSE_DATA_DIR: dir }, "owner-password-12\n"))).toBe(0);
    const weak = io({ GATEHOUSE_DATA_DIR: dir, GATEHOUSE_PASSWORD: "short" });
    expect(await run(["user", "add", "--email", "c@example.test", "--role", "owner"], weak)).toBe(2);
    expect(weak.stderr).toContain("password");
    const dup = io({ GATEHOUSE_DATA_DIR: dir, GATEHOUSE_PASSWORD: "auditor-password-1" });
    expect(await run(["user", "add", "--email", "a@example.test", "--role", "auditor"], dup)).toBe(1);
    expect(dup.stderr).toContain("already exists");
  });

  it("stops with one line when the master key cannot open the data", async () => {
    const dir = dataDir();
    expect(await run(["apikey", "create", "--name", "a", "--role", "owner"], io({ GATEHOUSE_DATA_DIR: dir }))).toBe(0);
    const o = io({ GATEHOUSE_DATA_DIR: dir, GATEHOUSE_MASTER_KEY: Buffer.alloc(32, 7).toString("base64") });
    expect(await run(["apikey", "create", "--name", "b", "--role", "owner"], o)).toBe(1);
    expect(o.stderr.trim().split("\n")).toHaveLength(1);
    expect(o.stderr).toContain("cannot open the existing data");
  });
});
