// `gatehouse db copy --to`: a SQLite deployment built through the CLI and the services, copied
// into a throwaway PostgreSQL cluster, then read back through the same CLI on PostgreSQL.
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import Database from "better-sqlite3";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { closeDatabase, database, databasePath } from "../../db/client";
import { copyPlan } from "../../db/copy";
import { writeTransaction } from "../../db/tx";
import { startPgCluster, type PgTestCluster } from "../../scripts/pg-test-cluster.mjs";
import { appendAuditEvents, type AuditEventInput } from "../audit";
import { EgressJournal } from "../audit/journal";
import { readEnv } from "../env";
import { authenticateApiKey } from "../services/api-keys/authenticate-api-key";
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

const POLICY = {
  version: 1,
  memberAccess: { mode: "roles", roles: ["engineering"], directMessages: "disabled" },
  orgDeny: ["*.pastebin.example"],
  bundles: [
    {
      name: "baseline",
      scope: { type: "organization" },
      domains: ["packages.example.com", "*.cdn.example.net"],
      connections: [
        {
          name: "github",
          serviceAccount: "agent@acme.example",
          inject: { type: "bearer" },
          allowedWebsites: ["api.github.example"],
          narrow: { host: "api.github.example", pathPrefix: "/repos/acme", methods: "read_only" },
        },
      ],
    },
    { name: "platform", scope: { type: "channels", workspace: "T0ACME", channels: ["C0ENG", "C0OPS"] }, domains: ["registry.example.org"] },
  ],
};
const FAKE_SECRET = "ghp_fake-test-secret-0000000000000000";
const EGRESS_EVENTS = 300;

let cluster: PgTestCluster;
let dir: string;
let env: Record<string, string>;
let apiKey: string;
let sessionToken: string;
const databases: { url: string; dir: string }[] = [];

async function cli(argv: string[], e: Record<string, string> = env, stdin = "") {
  const o = io(e, stdin);
  const code = await run(argv, o);
  return { code, stdout: o.stdout, stderr: o.stderr };
}

/** A fresh empty database in the cluster: its URL. */
function newDatabase(name: string): string {
  cluster.psql(`CREATE DATABASE ${name}`);
  const u = new URL(cluster.url);
  u.pathname = `/${name}`;
  return u.toString();
}

async function pgCounts(url: string): Promise<Record<string, number>> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const out: Record<string, number> = {};
    for (const p of copyPlan()) out[p.name] = Number((await c.query(`SELECT count(*) AS n FROM "${p.name}"`)).rows[0].n);
    return out;
  } finally {
    await c.end();
  }
}

function sqliteCounts(file: string): Record<string, number> {
  const db = new Database(file, { readonly: true });
  try {
    return Object.fromEntries(
      copyPlan().map((p) => [p.name, Number((db.prepare(`SELECT count(*) AS n FROM "${p.name}"`).get() as { n: number }).n)]),
    );
  } finally {
    db.close();
  }
}

function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, "127.0.0.1", () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

beforeAll(async () => {
  cluster = await startPgCluster();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "gh-dbcopy-"));
  env = { GATEHOUSE_DATA_DIR: dir };
  // The deployment, through the CLI as an operator builds it.
  expect(
    (await cli(["user", "add", "--email", "owner@example.test", "--role", "owner"], { ...env, GATEHOUSE_PASSWORD: "owner-password-123" }))
      .code,
  ).toBe(0);
  const key = await cli(["apikey", "create", "--name", "ci", "--role", "owner"]);
  expect(key.code).toBe(0);
  apiKey = key.stdout.trim();
  const policyFile = path.join(dir, "policy.json");
  fs.writeFileSync(policyFile, JSON.stringify(POLICY));
  expect((await cli(["policy", "import", policyFile])).code).toBe(0);
  expect((await cli(["credential", "set", "baseline/github"], env, FAKE_SECRET + "\n")).code).toBe(0);
  const session = await cli([
    "session",
    "create",
    "--workspace",
    "T0ACME",
    "--channel",
    "C0ENG",
    "--member",
    "U1",
    "--org-member",
    "--role",
    "engineering",
  ]);
  expect(session.code).toBe(0);
  sessionToken = session.stdout.trim();
  // Egress events as the proxy records them (through the chain's own append).
  const db = database(dir);
  const events: AuditEventInput[] = Array.from({ length: EGRESS_EVENTS }, (_, i) => ({
    kind: "egress",
    action: "egress.request",
    requestId: `req-${i}`,
    workspace: "T0ACME",
    channel: "C0ENG",
    member: "U1",
    method: "GET",
    scheme: "https",
    host: i % 2 ? "packages.example.com" : "blocked.example",
    port: 443,
    path: `/p/${i}`,
    outcome: i % 2 ? "allowed" : "blocked",
    rule: i % 2 ? "domain:packages.example.com" : null,
    status: i % 2 ? 200 : null,
    bytesIn: i * 10,
    bytesOut: i,
    durationMs: i % 50,
    detail: i % 3 ? null : { attempt: i, note: "ünïcode ✓" },
  }));
  await writeTransaction(db, async (tx) => void (await appendAuditEvents(tx, events)));
}, 120_000);

afterAll(async () => {
  for (const d of databases) await closeDatabase(database(d.dir, d.url)).catch(() => {});
  await closeDatabase(database(dir)).catch(() => {});
  await cluster?.stop();
});

describe("gatehouse db copy --to", () => {
  it("copies every table into an empty PostgreSQL database; the copy verifies and answers like the source", async () => {
    const url = newDatabase("copy_ok");
    const pgEnv = { ...env, GATEHOUSE_DATABASE_URL: url };
    databases.push({ url, dir });
    const before = sqliteCounts(databasePath(dir));
    expect(before.audit_events).toBeGreaterThan(EGRESS_EVENTS);

    const r = await cli(["db", "copy", "--to", url, "--json"]);
    expect(r.stderr).toContain("audit_events:");
    expect(r.code, r.stderr).toBe(0);
    const summary = JSON.parse(r.stdout) as { tables: { table: string; rows: number }[]; rows: number };
    expect(Object.fromEntries(summary.tables.map((t) => [t.table, t.rows]))).toEqual(before);
    expect(await pgCounts(url)).toEqual(before);
    for (const table of [
      "users",
      "api_keys",
      "bundles",
      "bundle_domains",
      "connections",
      "connection_websites",
      "credentials",
      "sessions",
      "org_deny",
      "org_settings",
    ]) {
      expect(before[table], table).toBeGreaterThan(0);
    }
    // Nothing secret on either stream: not the credential, the key, the token.
    for (const secret of [FAKE_SECRET, apiKey, sessionToken]) expect(r.stdout + r.stderr).not.toContain(secret);

    // The chain, on the copy, through the CLI on PostgreSQL.
    const verify = await cli(["audit", "verify"], pgEnv);
    expect(verify.code, verify.stderr).toBe(0);
    expect(verify.stderr).toContain(`${before.audit_events} event(s)`);
    // The last hash is the source's (the copy continues the same chain).
    const sourceVerify = await cli(["audit", "verify"]);
    expect(verify.stderr.match(/last hash (\w+)/)?.[1]).toBe(sourceVerify.stderr.match(/last hash (\w+)/)?.[1]);

    // The same policy, and the same API key opens it.
    const [a, b] = [await cli(["policy", "export"]), await cli(["policy", "export"], pgEnv)];
    expect(b.code).toBe(0);
    expect(JSON.parse(b.stdout)).toEqual(JSON.parse(a.stdout));
    const pgDb = database(dir, url);
    const actor = await authenticateApiKey({
      ctx: { db: pgDb, env: readEnv(pgEnv as unknown as NodeJS.ProcessEnv), now: Date.now } as never,
      header: `Bearer ${apiKey}`,
    });
    expect(actor).toMatchObject({ type: "apikey", role: "owner", name: "ci" });

    // Identities continue after the copied ids: a new bundle gets the next id, not 1.
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    try {
      const maxBundle = Number((await c.query("SELECT max(id) AS m FROM bundles")).rows[0].m);
      const next = Number((await c.query("SELECT nextval(pg_get_serial_sequence('bundles', 'id')) AS n")).rows[0].n);
      expect(next).toBe(maxBundle + 1);
      const maxSeq = Number((await c.query("SELECT max(seq) AS m FROM audit_events")).rows[0].m);
      expect(Number((await c.query("SELECT nextval(pg_get_serial_sequence('audit_events', 'seq')) AS n")).rows[0].n)).toBe(maxSeq + 1);
      // The indexes dropped for the load were rebuilt, the same as the migrations made them.
      const indexes = (await c.query("SELECT indexname FROM pg_indexes WHERE tablename = 'audit_events'")).rows.map(
        (r) => r.indexname as string,
      );
      expect(indexes).toEqual(
        expect.arrayContaining(["audit_search_trgm", "audit_ts", "audit_host_seq", "audit_channel_seq", "audit_channel_outcome_seq"]),
      );
      // Booleans and JSON arrived as PostgreSQL's own types.
      const s = (await c.query("SELECT member_org, member_roles FROM sessions")).rows[0];
      expect(s).toEqual({ member_org: true, member_roles: ["engineering"] });
    } finally {
      await c.end();
    }
    // A new event appended on the copy extends the chain.
    const more = await cli(["apikey", "create", "--name", "after-copy", "--role", "auditor"], pgEnv);
    expect(more.code).toBe(0);
    expect((await cli(["audit", "verify"], pgEnv)).code).toBe(0);

    // And a second copy into it is refused: it is not empty any more.
    const again = await cli(["db", "copy", "--to", url]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(
      /^gatehouse db copy: the PostgreSQL database at 127\.0\.0\.1:\d+\/copy_ok is not empty \(table \w+ has rows\)/m,
    );
    expect(again.stdout).toBe("");
  }, 120_000);

  it("refuses an unreachable target in one line naming host:port, never the password", async () => {
    const port = await closedPort();
    const r = await cli(["db", "copy", "--to", `postgres://gatehouse:very-secret-pw@127.0.0.1:${port}/gh`]);
    expect(r.code).toBe(1);
    expect(r.stderr.split("\n").at(-2)).toBe(`gatehouse db copy: cannot reach PostgreSQL at 127.0.0.1:${port}/gh (ECONNREFUSED)`);
    expect(r.stderr).not.toContain("very-secret-pw");
    expect(r.stdout).toBe("");
  });

  it("exits 2 with usage on a bad or missing --to, an extra argument, or GATEHOUSE_DATABASE_URL set", async () => {
    for (const argv of [
      ["db", "copy"],
      ["db", "copy", "--to", "mysql://h/db"],
      ["db", "copy", "--to", "not a url"],
      ["db", "copy", "--to"],
      ["db", "copy", "--to", "postgres://h/db", "extra"],
    ]) {
      const r = await cli(argv);
      expect(r.code, argv.join(" ")).toBe(2);
      expect(r.stderr).toContain("usage: gatehouse db copy --to");
    }
    const r = await cli(["db", "copy", "--to", cluster.url], { ...env, GATEHOUSE_DATABASE_URL: cluster.url });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("unset GATEHOUSE_DATABASE_URL");
  });

  it("refuses a source whose schema is not this version's, before touching the target", async () => {
    const old = fs.mkdtempSync(path.join(os.tmpdir(), "gh-dbcopy-old-"));
    fs.copyFileSync(databasePath(dir), databasePath(old));
    for (const ext of ["-wal", "-shm"])
      if (fs.existsSync(databasePath(dir) + ext)) fs.copyFileSync(databasePath(dir) + ext, databasePath(old) + ext);
    const raw = new Database(databasePath(old));
    raw.prepare("DELETE FROM __drizzle_migrations WHERE created_at = (SELECT max(created_at) FROM __drizzle_migrations)").run();
    raw.close();
    const url = newDatabase("copy_old_source");
    const r = await cli(["db", "copy", "--to", url], { GATEHOUSE_DATA_DIR: old });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^gatehouse db copy: the SQLite database .* is not at this version's schema: it lacks 1 migration/);
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    expect(Number((await c.query("SELECT count(*) AS n FROM pg_tables WHERE schemaname = 'public'")).rows[0].n)).toBe(0);
    await c.end();
  });

  it("moves egress records still in the journal into the chain first, so the copy has them", async () => {
    const live = fs.mkdtempSync(path.join(os.tmpdir(), "gh-dbcopy-journal-"));
    fs.copyFileSync(databasePath(dir), databasePath(live));
    for (const ext of ["-wal", "-shm"])
      if (fs.existsSync(databasePath(dir) + ext)) fs.copyFileSync(databasePath(dir) + ext, databasePath(live) + ext);
    fs.copyFileSync(path.join(dir, "master.key"), path.join(live, "master.key"));
    const journal = new EgressJournal(live);
    for (let i = 0; i < 5; i++)
      journal.record({
        kind: "egress",
        action: "egress.request",
        requestId: `journalled-${i}`,
        host: "packages.example.com",
        outcome: "allowlisted",
      });
    journal.close();
    const before = sqliteCounts(databasePath(live)).audit_events!;
    const url = newDatabase("copy_journal");
    const r = await cli(["db", "copy", "--to", url], { GATEHOUSE_DATA_DIR: live });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain("moved 5 journalled egress event(s) into the audit log first");
    expect((await pgCounts(url)).audit_events).toBe(before + 5);
    const verify = await cli(["audit", "verify"], { GATEHOUSE_DATA_DIR: live, GATEHOUSE_DATABASE_URL: url });
    databases.push({ url, dir: live });
    expect(verify.code, verify.stderr).toBe(0);
  }, 120_000);

  it("leaves the target empty when a row cannot be copied, and copies after the cause is fixed", async () => {
    const bad = fs.mkdtempSync(path.join(os.tmpdir(), "gh-dbcopy-bad-"));
    fs.copyFileSync(databasePath(dir), databasePath(bad));
    for (const ext of ["-wal", "-shm"])
      if (fs.existsSync(databasePath(dir) + ext)) fs.copyFileSync(databasePath(dir) + ext, databasePath(bad) + ext);
    const raw = new Database(databasePath(bad));
    // PostgreSQL text cannot hold NUL: the last table in the copy order fails after the others went in.
    raw.prepare("INSERT INTO users (id, email, role, password_hash) VALUES ('u-nul', ?, 'auditor', 'x')").run("nul\u0000@example.test");
    raw.close();
    const url = newDatabase("copy_rollback");
    const r = await cli(["db", "copy", "--to", url], { GATEHOUSE_DATA_DIR: bad });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/gatehouse db copy: copying users failed \(22021\).*the target was left empty\n$/);
    expect(r.stderr).not.toContain("nul@");
    expect(Object.values(await pgCounts(url)).reduce((a, b) => a + b, 0)).toBe(1); // org_settings' migration row only
    const fixed = new Database(databasePath(bad));
    fixed.prepare("DELETE FROM users WHERE id = 'u-nul'").run();
    fixed.close();
    const again = await cli(["db", "copy", "--to", url], { GATEHOUSE_DATA_DIR: bad });
    expect(again.code, again.stderr).toBe(0);
  }, 120_000);
});
