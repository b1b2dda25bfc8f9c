// npm run bench:audit — a 1,000,000-event log (hash-chained, as the proxy writes it), then the
// server time of the Audit page's first page, filtered and free-text searches, and a streamed export.
//   BENCH_AUDIT_EVENTS=1000000
//   BENCH_AUDIT_DIR=/path: keep the generated log there, and reuse it on the next run
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

async function main(): Promise<void> {
  const TOTAL = Number(process.env.BENCH_AUDIT_EVENTS ?? 1_000_000);
  const keepDir = process.env.BENCH_AUDIT_DIR;
  const dataDir = keepDir ? path.resolve(keepDir) : fs.mkdtempSync(path.join(os.tmpdir(), "gh-bench-audit-"));
  fs.mkdirSync(dataDir, { recursive: true });
  // GATEHOUSE_DATABASE_URL=postgres://… runs the same bench on PostgreSQL (an empty database, or one this bench filled).
  const env = readEnv({ GATEHOUSE_DATA_DIR: dataDir, GATEHOUSE_DATABASE_URL: process.env.GATEHOUSE_DATABASE_URL ?? "" } as unknown as NodeJS.ProcessEnv);
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
  if (existing === 0) console.error(`bench: generating ${TOTAL.toLocaleString()} events in ${dataDir}…`);
  const BATCH = 10_000;
  let rng = 42;
  const rand = () => ((rng = (rng * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
  for (let done = existing; done < TOTAL; done += BATCH) {
    const batch: (AuditEventInput & { ts: number })[] = [];
    for (let i = 0; i < BATCH && done + i < TOTAL; i++) {
      const n = done + i;
      const ts = now - span + Math.floor((n / TOTAL) * span);
      const r = rand();
      if (r < 0.85) {
        const host = hosts[Math.floor(rand() * hosts.length)]!;
        batch.push({ ts, kind: "egress", action: n % 2 ? "egress.completed" : "egress.request", requestId: `req_${n}`, sessionId: `ses_${n % 997}`, workspace: "T0ACME", channel: `C${n % 40}`, thread: "1.1", member: `U${n % 300}`, method: "GET", scheme: "https", host, port: 443, path: `/repos/acme/${n % 100}`, outcome: outcomes[n % outcomes.length]!, rule: "domain:baseline:x", reason: "benchmark event", status: n % 2 ? 200 : null });
      } else if (r < 0.95) {
        batch.push({ ts, kind: "access", action: "session.granted", actor: "apikey:orchestrator", workspace: "T0ACME", channel: `C${n % 40}`, member: `U${n % 300}`, outcome: "granted" });
      } else {
        batch.push({ ts, kind: "admin", action: "domain.added", actor: "owner@acme.example", bundle: "baseline", detail: { after: { pattern: `d${n}.example.com` } } });
      }
    }
    await writeTransaction(db, (tx) => appendAuditEvents(tx, batch));
  }
  if (existing === 0) {
    if (db.gh.dialect === "sqlite") {
      sqliteWriterOf(db).pragma("wal_checkpoint(TRUNCATE)");
      sqliteWriterOf(db).exec("ANALYZE");
    } else await rawRun(db, sql`ANALYZE audit_events`);
    console.error(`bench: generated in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  }

  async function timeIt(label: string, fn: () => Promise<unknown>, runs = 20): Promise<number> {
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
    console.log(`${label.padEnd(58)} p50 ${p50.toFixed(2).padStart(8)} ms   max ${max.toFixed(2).padStart(8)} ms   ${p50 < 150 ? "ok" : "OVER 150 ms"}`);
    return p50;
  }

  const sevenDaysAgo = new Date(now - 7 * 24 * 3600_000).toISOString();
  const busyHost = hosts[17]!;
  console.log(`\naudit log: ${TOTAL.toLocaleString()} events (goal: under 150 ms of server time)\n`);
  const first = await timeIt("first page (newest 50, no filter)", () => searchAudit({ ctx, actor, input: { limit: "50" } }));
  const filtered = await timeIt(`host + outcome=blocked + last 7 days (${busyHost})`, () => searchAudit({ ctx, actor, input: { host: busyHost, outcome: "blocked", from: sevenDaysAgo, limit: "50" } }));
  await timeIt("second page of that search (cursor)", async () => {
    const p1 = await searchAudit({ ctx, actor, input: { host: busyHost, outcome: "blocked", from: sevenDaysAgo, limit: "50" } });
    if (p1.nextCursor) await searchAudit({ ctx, actor, input: { host: busyHost, outcome: "blocked", from: sevenDaysAgo, limit: "50", cursor: p1.nextCursor } });
  });
  await timeIt("kind=admin, last 7 days", () => searchAudit({ ctx, actor, input: { kind: "admin", from: sevenDaysAgo, limit: "50" } }));
  const channel = await timeIt("channel=C7 + outcome=blocked", () => searchAudit({ ctx, actor, input: { channel: "C7", outcome: "blocked", limit: "50" } }));
  const freeText = await timeIt("free text 'h4242.' (trigram index, newest 50 matches)", () => searchAudit({ ctx, actor, input: { q: "h4242.", limit: "50" } }));
  await timeIt("free text 'REPOS/acme/4' (common, mixed case)", () => searchAudit({ ctx, actor, input: { q: "REPOS/acme/4", limit: "50" } }));
  await timeIt("free text 'q9' (2 characters: no trigram, scans; not a goal)", () => searchAudit({ ctx, actor, input: { q: "q9", limit: "50" } }), 3);
  await timeIt("free text 'zz-not-there' (no match)", () => searchAudit({ ctx, actor, input: { q: "zz-not-there", limit: "50" } }));
  await timeIt("free text + host + outcome", () => searchAudit({ ctx, actor, input: { q: "acme/1", host: busyHost, outcome: "blocked", limit: "50" } }));

  const rssBefore = process.memoryUsage().rss;
  const e0 = performance.now();
  let bytes = 0;
  let lines = 0;
  let peak = rssBefore;
  for await (const line of (await exportAudit({ ctx, actor, input: { format: "csv", kind: "egress", from: sevenDaysAgo } })).lines) {
    bytes += line.length;
    if (++lines % 50_000 === 0) peak = Math.max(peak, process.memoryUsage().rss);
  }
  console.log(`\nexport (CSV, egress, last 7 days): ${lines.toLocaleString()} lines, ${(bytes / 1e6).toFixed(1)} MB in ${((performance.now() - e0) / 1000).toFixed(2)} s; RSS grew ${((peak - rssBefore) / 1e6).toFixed(1)} MB (streamed, not held)`);
  const v0 = performance.now();
  const chain = await verifyAudit({ ctx, actor });
  console.log(`verify the whole chain: ${chain.ok ? "intact" : "BROKEN"}, ${chain.events.toLocaleString()} events in ${((performance.now() - v0) / 1000).toFixed(2)} s`);
  const goal = first < 150 && filtered < 150 && channel < 150 && freeText < 150;
  console.log(`\nfirst page ${first.toFixed(2)} ms, filtered search ${filtered.toFixed(2)} ms, channel ${channel.toFixed(2)} ms, free text ${freeText.toFixed(2)} ms (goal: each < 150 ms): ${goal ? "goal met" : "goal NOT met"}`);
  if (!keepDir) fs.rmSync(dataDir, { recursive: true, force: true });
  await closeDatabase(db);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
