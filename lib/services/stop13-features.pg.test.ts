// Main's #19/#20 features on PostgreSQL (db/schema.pg.ts, migrations-pg 0002 and 0003): retention
// and its archive guard, time-bound grants and report-only in the stored document, sinks and
// their lease, credential health and the impact preview's grouped read.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startPgCluster, type PgTestCluster } from "../../scripts/pg-test-cluster.mjs";
import { closeDatabase, databasePath, openPostgres } from "../../db/client";
import { copySqliteToPostgres } from "../../db/copy";
import { rawAll, rawRun } from "../../db/raw";
import { writeTransaction } from "../../db/tx";
import { appendAuditEvents } from "../audit";
import { processHolder, releaseLease, tryLease } from "../audit/lease";
import { prepareDataDir } from "../bootstrap";
import { readEnv } from "../env";
import { PolicyCache } from "../policy-cache";
import { runRetention, setRetention, verifyArchive } from "./audit/retention";
import { verifyAudit } from "./audit/verify-audit";
import { listConnectionHealth } from "./credentials/credential-health";
import { setCredential } from "./credentials/set-credential";
import { expireGrants } from "./grants/expire-grants";
import { grantHost } from "./grants/grant-host";
import { setReportOnly } from "./grants/report-only";
import { applyPolicy } from "./policy/apply-policy";
import { getPolicy } from "./policy/get-policy";
import { previewPolicyImpact } from "./policy/preview-impact";
import { putPolicy } from "./policy/put-policy";
import { addSink } from "./sinks/add-sink";
import { listSinks } from "./sinks/list-sinks";
import { owner, testContext, type TestContext } from "./test-context";

let pg: PgTestCluster;
let ctx: TestContext;

beforeAll(async () => {
  pg = await startPgCluster();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "gh-pg13-"));
  const env = readEnv({ GATEHOUSE_DATA_DIR: dataDir, GATEHOUSE_DATABASE_URL: pg.url } as unknown as NodeJS.ProcessEnv);
  const { db, vault } = await prepareDataDir(env, { createKey: true });
  const clock = { now: Date.now() };
  ctx = { db, vault, env, now: () => clock.now, clock };
}, 60_000);

afterAll(async () => {
  if (ctx) await closeDatabase(ctx.db);
  await pg?.stop();
});

const egress = (ts: number, extra: Record<string, unknown> = {}) =>
  writeTransaction(ctx.db, (tx) =>
    appendAuditEvents(
      tx,
      [
        {
          kind: "egress",
          action: "egress.request",
          workspace: "T1",
          channel: "C1",
          method: "GET",
          scheme: "https",
          host: "api.example.com",
          port: 443,
          path: "/x",
          outcome: "allowlisted",
          ...extra,
        },
      ],
      ts,
    ),
  );

describe("stop-13 features on PostgreSQL", () => {
  it("stores time-bound grants and report-only windows, and expires them once", async () => {
    await putPolicy({
      ctx,
      actor: owner,
      dryRun: false,
      input: {
        version: 1,
        bundles: [
          {
            name: "b",
            scope: { type: "organization" },
            connections: [
              { name: "api", serviceAccount: "bot@acme.example", inject: { type: "bearer" }, allowedWebsites: ["api.example.com"] },
            ],
          },
        ],
      },
    });
    const g = await grantHost({
      ctx,
      actor: owner,
      input: { target: { workspace: "T1", channel: "C1" }, pattern: "tmp.example", duration: "1h" },
    });
    const { until } = await setReportOnly({ ctx, actor: owner, input: { workspace: "T1", duration: "1d" } });
    const doc = await getPolicy({ ctx, actor: owner });
    expect(doc.bundles.find((b) => b.name === g.bundle)!.domains).toEqual([{ pattern: "tmp.example", expiresAt: g.expiresAt }]);
    expect(doc.reportOnly).toEqual([{ workspace: "T1", until }]);
    // The cache serves only loaded policy on PostgreSQL; load() compiles it.
    const cache = new PolicyCache(ctx.db);
    expect((await cache.load()).nextExpiry).toBe(Date.parse(g.expiresAt));
    expect((await expireGrants({ ctx, now: Date.parse(g.expiresAt) })).expired).toBe(1);
    expect((await expireGrants({ ctx, now: Date.parse(g.expiresAt) })).expired).toBe(0);
    expect((await getPolicy({ ctx, actor: owner })).bundles.find((b) => b.name === g.bundle)!.domains).toEqual([]);
  });

  it("reads credential health and the impact preview's distinct requests", async () => {
    await setCredential({ ctx, actor: owner, input: { bundle: "b", connection: "api", secret: "fake-test-secret-0000000000000000" } });
    ctx.clock.now += 1000;
    await egress(ctx.clock.now - 2, { bundle: "b", connection: "api", outcome: "credentialed", status: 401 });
    await egress(ctx.clock.now - 1, { path: "/y" });
    await egress(ctx.clock.now, { path: "/y" });
    const [health] = await listConnectionHealth({ ctx, actor: owner });
    expect(health).toMatchObject({ bundle: "b", connection: "api", health: { lastSuccessAt: null } });
    const current = await getPolicy({ ctx, actor: owner });
    const impact = await previewPolicyImpact({ ctx, actor: owner, draft: { ...current, bundles: [] }, windowDays: 1 });
    expect(impact.replayed.requests).toBeGreaterThanOrEqual(2);
  });

  it("archives old events and lets the database delete only archived rows", async () => {
    expect(await verifyAudit({ ctx, actor: owner })).toMatchObject({ ok: true });
    await setRetention({ ctx, actor: owner, input: { days: 30 } });
    const before = await rawAll<{ seq: number }>(ctx.db, sql`SELECT seq FROM audit_events ORDER BY seq`);
    expect(before.length).toBeGreaterThan(0);
    // Everything logged so far is older than a minute once the clock moves on.
    ctx.clock.now += 120_000;
    const run = await runRetention({ ctx, actor: owner, olderThanMs: 60_000 });
    expect(run!.events).toBeGreaterThan(0);
    const through = run!.segments.at(-1)!.lastSeq;
    expect(await verifyAudit({ ctx, actor: owner })).toMatchObject({ ok: true, archivedThrough: through });
    expect(await verifyArchive({ ctx, actor: owner, dir: ctx.env.auditArchiveDir })).toMatchObject({ ok: true });
    const live = (await rawAll<{ seq: number }>(ctx.db, sql`SELECT seq FROM audit_events ORDER BY seq`)).map((r) => r.seq);
    expect(live[0]).toBe(through + 1);
    await expect(writeTransaction(ctx.db, (tx) => rawRun(tx, sql`DELETE FROM audit_events WHERE seq = ${live[0]!}`))).rejects.toMatchObject(
      {
        cause: { message: expect.stringMatching(/only archived events may be removed/) },
      },
    );
    await expect(writeTransaction(ctx.db, (tx) => rawRun(tx, sql`DELETE FROM audit_archive_segments`))).rejects.toMatchObject({
      cause: { message: expect.stringMatching(/append-only/) },
    });
  });

  it("adds sinks and hands the stream lease to one holder", async () => {
    await addSink({ ctx, actor: owner, input: { name: "siem", type: "otlp", url: "http://collector.example:4318" } });
    expect((await listSinks({ ctx, actor: owner })).map((s) => s.name)).toEqual(["siem"]);
    expect(await tryLease(ctx.db, "t", processHolder, 60_000, 1)).toBe(true);
    expect(await tryLease(ctx.db, "t", "someone-else", 60_000, 2)).toBe(false);
    expect(await tryLease(ctx.db, "t", "someone-else", 60_000, 60_002)).toBe(true);
    await releaseLease(ctx.db, "t", "someone-else");
  });

  it("db copy carries an archived SQLite deployment's segments over; the guard holds after", async () => {
    const src = await testContext(Date.now());
    await writeTransaction(src.db, (tx) =>
      appendAuditEvents(
        tx,
        Array.from({ length: 5 }, (_, i) => ({
          kind: "egress" as const,
          action: "egress.request" as const,
          host: `h${i}.example`,
          outcome: "allowlisted",
          ts: src.clock.now - 100 * 86_400_000 + i,
        })),
        src.clock.now,
      ),
    );
    expect((await runRetention({ ctx: src, actor: owner, olderThanMs: 86_400_000 }))!.events).toBe(5);
    await closeDatabase(src.db);
    pg.psql("CREATE DATABASE copy_target");
    const url = pg.url.replace(/\/gatehouse$/, "/copy_target");
    await copySqliteToPostgres({ sqliteFile: databasePath(src.env.dataDir), pgUrl: url });
    const copy = openPostgres(url, { max: 1 });
    try {
      const segments = await rawAll<{ lastSeq: number }>(copy, sql`SELECT last_seq AS "lastSeq" FROM audit_archive_segments`);
      expect(segments.length).toBeGreaterThan(0);
      const guard = await rawAll<{ on: string }>(
        copy,
        sql`SELECT tgenabled AS "on" FROM pg_trigger WHERE tgname = 'audit_archive_segments_in_order'`,
      );
      expect(guard).toEqual([{ on: "O" }]);
    } finally {
      await closeDatabase(copy);
    }
  });
});

describe("policy writes on PostgreSQL", () => {
  it("ten concurrent edits keep one another's changes, and reads meanwhile are whole documents", async () => {
    await putPolicy({
      ctx,
      actor: owner,
      dryRun: false,
      input: { version: 1, bundles: [{ name: "concurrent", scope: { type: "organization" }, domains: ["base.example"] }] },
    });
    const added = Array.from({ length: 10 }, (_, i) => `d${i}.example`);
    const edits = added.map((pattern) =>
      applyPolicy({
        ctx,
        actor: owner,
        change: { action: "domain.added", bundle: "concurrent" },
        derive: (current) => {
          const next = structuredClone(current);
          next.bundles.find((b) => b.name === "concurrent")!.domains.push(pattern);
          return next;
        },
      }),
    );
    const reads = Array.from({ length: 20 }, () => getPolicy({ ctx, actor: owner }));
    const [, readDocs] = await Promise.all([Promise.all(edits), Promise.all(reads)]);
    // Each read saw some prefix of the edits, never a document without its bundle.
    for (const doc of readDocs) expect(doc.bundles.map((b) => b.name)).toEqual(["concurrent"]);
    const domains = (await getPolicy({ ctx, actor: owner })).bundles[0]!.domains;
    expect([...domains].sort()).toEqual(["base.example", ...added].sort());
  });
});
