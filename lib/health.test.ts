import fs from "node:fs";
import http from "node:http";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { journalDir } from "./audit/journal";
import { answerHealth, readiness, type Readiness } from "./health";
import { testContext } from "./services/test-context";

const checks = (r: Readiness) => r.failed.map((f) => f.check);

describe("readiness", () => {
  it("is ready on a freshly migrated data directory", () => {
    const ctx = testContext();
    expect(readiness(ctx.db, ctx.env.dataDir)).toEqual({ ready: true, failed: [] });
  });

  it("fails the schema check when the database's migrations differ from this build's", () => {
    const ctx = testContext();
    const raw = ctx.db.$client;
    raw.prepare("INSERT INTO __drizzle_migrations (hash, created_at) VALUES ('x', 9999999999999)").run();
    expect(readiness(ctx.db, ctx.env.dataDir)).toMatchObject({
      ready: false,
      failed: [{ check: "schema", message: expect.stringContaining("newer Gatehouse") }],
    });
    raw.prepare("DELETE FROM __drizzle_migrations WHERE created_at >= 9999999999999").run();
    raw.prepare("DELETE FROM __drizzle_migrations WHERE created_at = (SELECT max(created_at) FROM __drizzle_migrations)").run();
    expect(readiness(ctx.db, ctx.env.dataDir)).toMatchObject({
      ready: false,
      failed: [{ check: "schema", message: "the database lacks 1 migration(s) of this version" }],
    });
  });

  it("fails the policy check when the policy cannot be read or compiled", () => {
    const ctx = testContext();
    ctx.db.$client.exec("DROP TABLE org_deny; UPDATE org_settings SET policy_revision = policy_revision + 1");
    const r = readiness(ctx.db, ctx.env.dataDir);
    expect(checks(r)).toEqual(["policy"]);
    // What failed, not why: no SQL or file names leave the process.
    expect(JSON.stringify(r)).not.toMatch(/org_deny|sqlite|\/tmp/i);
  });

  it("fails when the database is gone, and says the rest were not checked", () => {
    const ctx = testContext();
    ctx.db.$client.close();
    expect(checks(readiness(ctx.db, ctx.env.dataDir))).toEqual(["database", "schema", "policy", "audit_import"]);
  });

  it("fails the import check when journal records wait too long or pile up (injected thresholds)", () => {
    const ctx = testContext();
    const dir = journalDir(ctx.env.dataDir);
    fs.mkdirSync(dir, { recursive: true });
    const file = path.join(dir, `egress-${process.pid}-abcd0123-0.jsonl`);
    fs.writeFileSync(file, '["t","session","s1",1]\n');
    const written = fs.statSync(file).mtimeMs;
    expect(readiness(ctx.db, ctx.env.dataDir, { now: written + 1000, maxImportLagMs: 5000 }).ready).toBe(true);
    expect(readiness(ctx.db, ctx.env.dataDir, { now: written + 6000, maxImportLagMs: 5000 })).toMatchObject({
      ready: false,
      failed: [{ check: "audit_import", message: expect.stringContaining("not imported yet") }],
    });
    expect(checks(readiness(ctx.db, ctx.env.dataDir, { now: written, maxBacklogBytes: 10 }))).toEqual(["audit_import"]);
    // Imported up to its end: no backlog, however old the file.
    ctx.db.$client.prepare("INSERT INTO audit_journal (file, offset) VALUES (?, ?)").run(path.basename(file), fs.statSync(file).size);
    expect(readiness(ctx.db, ctx.env.dataDir, { now: written + 60_000, maxImportLagMs: 5000 }).ready).toBe(true);
  });
});

describe("answerHealth", () => {
  async function get(probe: () => Readiness, method: string, url: string) {
    const server = http.createServer((req, res) => {
      if (!answerHealth(req, res, probe)) res.writeHead(418).end("not health");
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    try {
      const res = await fetch(`http://127.0.0.1:${(server.address() as { port: number }).port}${url}`, { method });
      return { status: res.status, cache: res.headers.get("cache-control"), body: await res.text() };
    } finally {
      server.close();
    }
  }
  const ready = () => ({ ready: true, failed: [] });
  const notReady = (): Readiness => ({ ready: false, failed: [{ check: "schema", message: "m" }] });

  it("answers /healthz and /readyz, GET and HEAD, never cached; leaves everything else alone", async () => {
    expect(await get(notReady, "GET", "/healthz")).toEqual({ status: 200, cache: "no-store", body: '{"status":"ok"}' });
    expect(await get(ready, "GET", "/readyz")).toEqual({ status: 200, cache: "no-store", body: '{"status":"ready"}' });
    expect(await get(notReady, "GET", "/readyz?x=1")).toEqual({
      status: 503,
      cache: "no-store",
      body: '{"status":"not_ready","failed":[{"check":"schema","message":"m"}]}',
    });
    expect(await get(notReady, "HEAD", "/readyz")).toMatchObject({ status: 503, body: "" });
    for (const [method, url] of [
      ["POST", "/healthz"],
      ["GET", "/healthz/x"],
      ["GET", "/readyzz"],
      ["GET", "//healthz"],
    ]) {
      expect((await get(ready, method!, url!)).status).toBe(418);
    }
  });
});
