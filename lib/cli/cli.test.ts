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
    for (const argv of [
      [],
      ["frobnicate"],
      ["apikey", "create", "--name", "x"],
      ["apikey", "create", "--name", "x", "--role", "root"],
      ["user", "add", "--email"],
      ["apikey", "create", "--name", "x", "--role", "owner", "--bogus", "1"],
    ]) {
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
    expect(
      await run(
        ["user", "add", "--email", "a@example.test", "--role", "auditor"],
        io({ GATEHOUSE_DATA_DIR: dir, GATEHOUSE_PASSWORD: "auditor-password-1" }),
      ),
    ).toBe(0);
    expect(
      await run(["user", "add", "--email", "b@example.test", "--role", "owner"], io({ GATEHOUSE_DATA_DIR: dir }, "owner-password-12\n")),
    ).toBe(0);
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

describe("gatehouse policy, credential and vault commands", () => {
  const policy = {
    version: 1,
    bundles: [
      {
        name: "baseline",
        scope: { type: "organization" },
        domains: ["registry.npmjs.org"],
        connections: [
          { name: "github", serviceAccount: "bot@acme.example", inject: { type: "bearer" }, allowedWebsites: ["api.github.com"] },
        ],
      },
    ],
  };

  it("imports (dry run first), exports, sets a credential from stdin and rotates the key", async () => {
    const dir = dataDir();
    const file = path.join(dir, "policy.json");
    fs.writeFileSync(file, JSON.stringify(policy));
    const dry = io({ GATEHOUSE_DATA_DIR: dir });
    expect(await run(["policy", "import", file, "--dry-run"], dry)).toBe(0);
    expect(dry.stdout).toContain("+ bundles[baseline]");
    expect(dry.stderr).toContain("dry run");
    const empty = io({ GATEHOUSE_DATA_DIR: dir });
    expect(await run(["policy", "export"], empty)).toBe(0);
    expect(JSON.parse(empty.stdout).bundles).toEqual([]);

    expect(await run(["policy", "import", file], io({ GATEHOUSE_DATA_DIR: dir }))).toBe(0);
    const yamlOut = path.join(dir, "out.yaml");
    expect(await run(["policy", "export", "--out", yamlOut], io({ GATEHOUSE_DATA_DIR: dir }))).toBe(0);
    expect(fs.readFileSync(yamlOut, "utf8")).toContain("name: baseline");

    const secret = "fake-token-for-cli-test";
    const set = io({ GATEHOUSE_DATA_DIR: dir }, secret + "\n");
    expect(await run(["credential", "set", "baseline/github"], set)).toBe(0);
    expect(set.stdout).toBe("");
    expect(set.stderr).not.toContain(secret);
    expect(await run(["credential", "set", "baseline/github", secret], io({ GATEHOUSE_DATA_DIR: dir }))).toBe(2);
    expect(await run(["credential", "set", "baseline/nope"], io({ GATEHOUSE_DATA_DIR: dir }, "x"))).toBe(1);

    const keyBefore = fs.readFileSync(path.join(dir, "master.key"), "utf8");
    const rot = io({ GATEHOUSE_DATA_DIR: dir });
    expect(await run(["vault", "rotate-key"], rot)).toBe(0);
    expect(fs.readFileSync(path.join(dir, "master.key"), "utf8")).not.toBe(keyBefore);
    expect(fs.existsSync(path.join(dir, "master.key.next"))).toBe(false);
    // The rotated data opens under the new key: a fresh process can replace the credential.
    expect(await run(["credential", "set", "baseline/github"], io({ GATEHOUSE_DATA_DIR: dir }, "fake-2"))).toBe(0);
    const db = new Database(path.join(dir, "gatehouse.db"), { readonly: true });
    const dump =
      JSON.stringify(db.prepare("SELECT * FROM credentials").all()) + JSON.stringify(db.prepare("SELECT * FROM audit_events").all());
    db.close();
    expect(dump).not.toContain(secret);
    expect(dump).toContain("vault.key_rotated");
  });

  it("refuses an invalid document with the field and exit 2, changing nothing", async () => {
    const dir = dataDir();
    const file = path.join(dir, "bad.yaml");
    fs.writeFileSync(file, "version: 1\nbundles:\n  - name: b\n    scope: { type: planet }\n");
    const o = io({ GATEHOUSE_DATA_DIR: dir });
    expect(await run(["policy", "import", file], o)).toBe(2);
    expect(o.stderr).toContain("bundles[0].scope");
    const out = io({ GATEHOUSE_DATA_DIR: dir });
    await run(["policy", "export"], out);
    expect(JSON.parse(out.stdout).bundles).toEqual([]);
  });
});

describe("gatehouse audit verify", () => {
  it("exits 0 on an intact chain and 1 naming the first bad event", async () => {
    const dir = dataDir();
    expect(await run(["apikey", "create", "--name", "a", "--role", "owner"], io({ GATEHOUSE_DATA_DIR: dir }))).toBe(0);
    expect(await run(["apikey", "create", "--name", "b", "--role", "owner"], io({ GATEHOUSE_DATA_DIR: dir }))).toBe(0);
    const ok = io({ GATEHOUSE_DATA_DIR: dir });
    expect(await run(["audit", "verify"], ok)).toBe(0);
    expect(ok.stderr).toContain("2 event(s)");
    const db = new Database(path.join(dir, "gatehouse.db"));
    db.exec("DROP TRIGGER audit_events_no_update");
    db.prepare("UPDATE audit_events SET actor = 'mallory' WHERE seq = 1").run();
    db.close();
    const bad = io({ GATEHOUSE_DATA_DIR: dir });
    expect(await run(["audit", "verify"], bad)).toBe(1);
    expect(JSON.parse(bad.stdout)).toMatchObject({ seq: 1 });
    expect(bad.stderr).toContain("BROKEN");
  });

  it("auth password takes exactly one of --enable or --disable; --disable needs an IdP first", async () => {
    const dir = dataDir();
    for (const argv of [
      ["auth", "password"],
      ["auth", "password", "--enable", "--disable"],
    ])
      expect(await run(argv, io({ GATEHOUSE_DATA_DIR: dir }))).toBe(2);
    const on = io({ GATEHOUSE_DATA_DIR: dir });
    expect(await run(["auth", "password", "--enable"], on)).toBe(0);
    expect(on.stderr).toContain("password sign-in was already on");
    const off = io({ GATEHOUSE_DATA_DIR: dir });
    expect(await run(["auth", "password", "--disable"], off)).toBe(1);
    expect(off.stderr).toContain("Configure sign-in through your identity provider");
  });
});
