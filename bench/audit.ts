// npm run bench:audit — a 1,000,000-event log (hash-chained, as the proxy writes it), then the
// server time of the Audit page's first page, filtered and free-text searches, and a streamed
// export; on the SQLite file and on PostgreSQL (a throwaway cluster) side by side in one run.
//   BENCH_AUDIT_EVENTS=1000000
//   BENCH_AUDIT_DIR=/path: keep the generated SQLite log there, and reuse it on the next run
//   BENCH_PG=0: SQLite only   GATEHOUSE_DATABASE_URL=postgres://…: that database instead of a throwaway cluster (an empty one, or one this bench filled)
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { sql } from "drizzle-orm";
import { closeDatabase, sqliteWriterOf } from "../db/client";
import { rawGet, rawRun } from "../db/raw";
import { writeTransaction } from "../db/tx";
import { prepareDataDir } from "../lib/bootstrap";
import { readEnv } from "../lib/env";
import { appendAuditEvents, type AuditEventInput } from "../lib/audit";
import { exportAudit } from "../lib/services/audit/export-audit";
import { searchAudit } from "../lib/services/audit/search-audit";
import { verifyAudit } from "../lib/services/audit/verify-audit";
import { startPgCluster, type PgTestCluster } from "../scripts/pg-test-cluster.mjs";

const TOTAL = Number(process.env.BENCH_AUDIT_EVENTS ?? 1_000_000);
/** The figures the issue sets goals on (p50, ms), then the rest, for the side-by-side table. */
type Figures = Map<string, number>;
const GOALS = ["first page", "filtered", "channel", "free text"];

async function benchBackend(backend: string, databaseUrl: string, keepDir: string | undefined): Promise<Figures> {
  const figures: Figures = new Map();
  const dataDir = keepDir ? path.resolve(keepDir) : fs.mkdtempSync(path.join(os.tmpdir(), "gh-bench-audit-"));
  fs.mkdirSync(dataDir, { recursive: true });
  const env = readEnv({ GATEHOUSE_DATA_DIR: dataDir, GATEHOUSE_DATABASE_URL: databaseUrl } as unknown as NodeJS.ProcessEnv);
  const { db, vault } = await prepareDataDir(env, { createKey: true });
  const ctx = { db, vault, env, now: Date.now };
  const actor = { type: "system" as const, role: "owner" as const };

  const now = Date.now();
  const span = 30 * 24 * 3600_000;
  const hosts = Array.from({ length: 5000 }, (_, i) => `h${i}.example${i % 7}.com`);
  const outcomes = ["allowlisted", "allowlisted", "credentialed", "credentialed", "blocked"];

  const existing = Number((await rawGet<{ n: number }>(db, sql`SELECT count(*) AS n FROM audit_events`))?.n ?? 0);
  const t0 = performance.now();
  if (existing > 0 && existing !== TOTAL) throw new Error(`${dataDir} holds ${existing} events, not ${TOTAL}`);
  if (existing === 0) console.error(`bench (${backend}): generating ${TOTAL.toLocaleString()} events…`);
  const BATCH = 10_000;
  let rng = 42;
  const rand = () => (rng = (rng * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
  for (let done = existing; done < TOTAL; done += BATCH) {
    const batch: (AuditEventInput & { ts: number })[] = [];
    for (let i = 0; i < BATCH && done + i < TOTAL; i++) {
      const n = done + i;
      const ts = now - span + Math.floor((n / TOTAL) * span);
      const r = rand();
      if (r < 0.85) {
        const host = hosts[Math.floor(rand() * hosts.length)]!;
        batch.push({
          ts,
          kind: "egress",
          action: n % 2 ? "egress.completed" : "egress.request",
          requestId: `req_${n}`,
          sessionId: `ses_${n % 997}`,
          workspace: "T0ACME",
          channel: `C${n % 40}`,
          thread: "1.1",
          member: `U${n % 300}`,
          method: "GET",
          scheme: "https",
          host,
          port: 443,
          path: `/repos/acme/${n % 100}`,
          outcome: outcomes[n % outcomes.length]!,
          rule: "domain:baseline:x",
          reason: "benchmark event",
          status: n % 2 ? 200 : null,
        });
      } else if (r < 0.95) {
        batch.push({
          ts,
          kind: "access",
          action: "session.granted",
          actor: "apikey:orchestrator",
          workspace: "T0ACME",
          channel: `C${n % 40}`,
          member: `U${n % 300}`,
          outcome: "granted",
        });
      } else {
        batch.push({
          ts,
          kind: "admin",
          action: "domain.added",
          actor: "owner@acme.example",
          bundle: "baseline",
          detail: { after: { pattern: `d${n}.example.com` } },
        });
      }
    }
    await writeTransaction(db, (tx) => appendAuditEvents(tx, batch));
  }
  if (existing === 0) {
    if (db.gh.dialect === "sqlite") {
      sqliteWriterOf(db).pragma("wal_checkpoint(TRUNCATE)");
      sqliteWriterOf(db).exec("ANALYZE");
    } else await rawRun(db, sql`ANALYZE audit_events`);
    console.error(`bench (${backend}): generated in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  }

  async function timeIt(label: string, fn: () => Promise<unknown>, runs = 20, figure?: string): Promise<number> {
    await fn(); // warm: page cache, prepared statements
    const samples: number[] = [];
    for (let i = 0; i < runs; i++) {
      const s = performance.now();
      await fn();
      samples.push(performance.now() - s);
    }
    samples.sort((a, b) => a - b);
    const p50 = samples[Math.floor(samples.length / 2)]!;
    const max = samples[samples.length - 1]!;
    figures.set(figure ?? label, p50);
    console.log(
      `${label.padEnd(58)} p50 ${p50.toFixed(2).padStart(8)} ms   max ${max.toFixed(2).padStart(8)} ms   ${p50 < 150 ? "ok" : "OVER 150 ms"}`,
    );
    return p50;
  }

  const sevenDaysAgo = new Date(now - 7 * 24 * 3600_000).toISOString();
  const busyHost = hosts[17]!;
  console.log(`\n${backend}: audit log of ${TOTAL.toLocaleString()} events (goal: under 150 ms of server time)\n`);
  await timeIt("first page (newest 50, no filter)", () => searchAudit({ ctx, actor, input: { limit: "50" } }), 20, "first page");
  await timeIt(
    `host + outcome=blocked + last 7 days (${busyHost})`,
    () => searchAudit({ ctx, actor, input: { host: busyHost, outcome: "blocked", from: sevenDaysAgo, limit: "50" } }),
    20,
    "filtered",
  );
  await timeIt("second page of that search (cursor)", async () => {
    const p1 = await searchAudit({ ctx, actor, input: { host: busyHost, outcome: "blocked", from: sevenDaysAgo, limit: "50" } });
    if (p1.nextCursor)
      await searchAudit({
        ctx,
        actor,
        input: { host: busyHost, outcome: "blocked", from: sevenDaysAgo, limit: "50", cursor: p1.nextCursor },
      });
  });
  await timeIt("kind=admin, last 7 days", () => searchAudit({ ctx, actor, input: { kind: "admin", from: sevenDaysAgo, limit: "50" } }));
  await timeIt(
    "channel=C7 + outcome=blocked",
    () => searchAudit({ ctx, actor, input: { channel: "C7", outcome: "blocked", limit: "50" } }),
    20,
    "channel",
  );
  await timeIt(
    "free text 'h4242.' (full-text index, newest 50 matches)",
    () => searchAudit({ ctx, actor, input: { q: "h4242.", limit: "50" } }),
    20,
    "free text",
  );
  await timeIt("free text 'REPOS/acme/4' (common, mixed case)", () =>
    searchAudit({ ctx, actor, input: { q: "REPOS/acme/4", limit: "50" } }),
  );
  await timeIt(
    "free text 'q9' (2 characters: no trigram, scans; not a goal)",
    () => searchAudit({ ctx, actor, input: { q: "q9", limit: "50" } }),
    3,
  );
  await timeIt("free text 'zz-not-there' (no match)", () => searchAudit({ ctx, actor, input: { q: "zz-not-there", limit: "50" } }));
  await timeIt("free text + host + outcome", () =>
    searchAudit({ ctx, actor, input: { q: "acme/1", host: busyHost, outcome: "blocked", limit: "50" } }),
  );

  const rssBefore = process.memoryUsage().rss;
  const e0 = performance.now();
  let bytes = 0;
  let lines = 0;
  let peak = rssBefore;
  for await (const line of (await exportAudit({ ctx, actor, input: { format: "csv", kind: "egress", from: sevenDaysAgo } })).lines) {
    bytes += line.length;
    if (++lines % 50_000 === 0) peak = Math.max(peak, process.memoryUsage().rss);
  }
  figures.set("export (s)", (performance.now() - e0) / 1000);
  console.log(
    `\nexport (CSV, egress, last 7 days): ${lines.toLocaleString()} lines, ${(bytes / 1e6).toFixed(1)} MB in ${figures.get("export (s)")!.toFixed(2)} s; RSS grew ${((peak - rssBefore) / 1e6).toFixed(1)} MB (streamed, not held)`,
  );
  const v0 = performance.now();
  const chain = await verifyAudit({ ctx, actor });
  figures.set("verify (s)", (performance.now() - v0) / 1000);
  console.log(
    `verify the whole chain: ${chain.ok ? "intact" : "BROKEN"}, ${chain.events.toLocaleString()} events in ${figures.get("verify (s)")!.toFixed(2)} s`,
  );
  if (!keepDir) fs.rmSync(dataDir, { recursive: true, force: true });
  await closeDatabase(db);
  return figures;
}

async function main(): Promise<void> {
  const results: [string, Figures][] = [["SQLite", await benchBackend("SQLite", "", process.env.BENCH_AUDIT_DIR)]];
  const givenUrl = process.env.GATEHOUSE_DATABASE_URL;
  let cluster: PgTestCluster | null = null;
  if (process.env.BENCH_PG !== "0") {
    if (!givenUrl)
      cluster = await startPgCluster({ durable: true }).catch(
        (err: Error) => (console.error(`bench: no PostgreSQL (${err.message}); SQLite only`), null),
      );
    if (cluster) process.on("exit", () => cluster?.stopNow());
    const url = givenUrl || cluster?.url;
    try {
      if (url) results.push(["PostgreSQL", await benchBackend("PostgreSQL", url, undefined)]);
    } finally {
      await cluster?.stop();
    }
  }

  console.log(`\nside by side, ${TOTAL.toLocaleString()} events (p50 ms; goal: the first four each < 150 ms on every backend)\n`);
  const names = [...results[0]![1].keys()];
  const width = Math.max(...names.map((n) => n.length)) + 2;
  console.log(["".padEnd(width), ...results.map(([b]) => b.padStart(12))].join(""));
  for (const name of names)
    console.log([name.padEnd(width), ...results.map(([, f]) => (f.get(name)?.toFixed(2) ?? "-").padStart(12))].join(""));
  const met = results.every(([, f]) => GOALS.every((g) => (f.get(g) ?? Infinity) < 150));
  console.log(`\n${met ? "goal met" : "goal NOT met"} on ${results.map(([b]) => b).join(" and ")}`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
