// npm run bench:stream — what an audit sink costs the proxy: allowlisted HTTP through one
// Gatehouse, interleaved rounds with no sink, a dead sink (connection refused), a black-hole sink
// (accepts, never reads or closes: every batch waits for its timeout) and a live sink (an OTLP
// receiver taking every event). Requests/s and p50/p99 per cell, medians over rounds, and the
// ratio to "no sink". Sinks are added and removed through the CLI between cells.
//   BENCH_SECONDS=5 (per cell)   BENCH_ROUNDS=3   BENCH_CONCURRENCY=16
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { Pool } from "undici";
import { startGatehouse } from "../e2e/fixtures/gatehouse";
import { createCertificateAuthority, issueLeafForNames } from "../lib/proxy/certificates";

const root = path.join(__dirname, "..");
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const ROUNDS = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 3));
const C = Number(process.env.BENCH_CONCURRENCY ?? 16);
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "gh-bench-stream-"));
const children: ChildProcess[] = [];
process.on("exit", () => children.forEach((c) => c.kill("SIGINT")));

async function load(
  pool: () => Pool,
  path_: string,
  host: string,
  auth: string,
): Promise<{ rps: number; p50: number; p99: number; errors: number }> {
  const dispatcher = pool();
  const latencies: number[] = [];
  let errors = 0;
  const warmUntil = performance.now() + 1000;
  const until = warmUntil + SECONDS * 1000;
  const worker = async () => {
    while (performance.now() < until) {
      const t0 = performance.now();
      try {
        const r = await dispatcher.request({ method: "GET", path: path_, headers: { host, "proxy-authorization": auth } });
        await r.body.dump();
        if (r.statusCode !== 200) errors++;
      } catch {
        errors++;
      }
      if (t0 >= warmUntil) latencies.push(performance.now() - t0);
    }
  };
  await Promise.all(Array.from({ length: C }, worker));
  await dispatcher.close();
  latencies.sort((a, b) => a - b);
  const q = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))] ?? NaN;
  return { rps: latencies.length / SECONDS, p50: q(0.5), p99: q(0.99), errors };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  const ca = await createCertificateAuthority("bench upstream CA");
  const leaf = await issueLeafForNames({ names: ["bench.test"], caCertPem: ca.certPem, caKeyPem: ca.keyPem });
  fs.writeFileSync(path.join(tmp, "leaf.pem"), leaf.certPem);
  fs.writeFileSync(path.join(tmp, "leaf.key"), leaf.keyPem);
  const upstream = spawn(
    process.execPath,
    [path.join(root, "bench", "upstream.mjs"), path.join(tmp, "leaf.pem"), path.join(tmp, "leaf.key")],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  children.push(upstream);
  const up = await new Promise<{ http: number }>((resolve) =>
    upstream.stdout!.once("data", (d: Buffer) => resolve(JSON.parse(d.toString()))),
  );

  // Sinks' far ends: a closed port, a black hole, a live OTLP receiver (counts records).
  const refused = await new Promise<number>((resolve) => {
    const s = net.createServer().listen(0, "127.0.0.1", () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
  const holes: net.Socket[] = [];
  const hole = net.createServer((s) => void holes.push(s.pause())).listen(0, "127.0.0.1");
  let received = 0;
  const otlp = http
    .createServer((req, res) => {
      let n = 0;
      req.on("data", (d: Buffer) => (n += d.length));
      req.on("end", () => {
        received += n;
        res.writeHead(200).end("{}");
      });
    })
    .listen(0, "127.0.0.1");
  await new Promise((r) => setTimeout(r, 100));

  const dataDir = path.join(tmp, "data");
  const g = await startGatehouse(
    {
      GATEHOUSE_DATA_DIR: dataDir,
      GATEHOUSE_ALLOW_PRIVATE: "127.0.0.0/8",
      GATEHOUSE_RESOLVE: "bench.test=127.0.0.1",
      GATEHOUSE_OWNER_EMAIL: "bench@gatehouse.test",
      GATEHOUSE_OWNER_PASSWORD: "bench-password-not-real",
    },
    // A build after a source change can take minutes on a busy machine.
    { logFile: path.join(tmp, "gatehouse.log"), readyTimeoutMs: 900_000 },
  );
  children.push(g.child);
  const cli = (args: string[], input?: string) =>
    spawnSync(process.execPath, [path.join(root, "bin", "gatehouse.js"), ...args], { cwd: root, env: g.env, input, encoding: "utf8" });
  const policy = path.join(tmp, "policy.json");
  fs.writeFileSync(
    policy,
    JSON.stringify({
      version: 1,
      memberAccess: { mode: "anyone" },
      bundles: [{ name: "bench", scope: { type: "organization" }, domains: [`bench.test:${up.http}`], connections: [] }],
    }),
  );
  if (cli(["policy", "import", policy]).status !== 0) throw new Error("policy import failed");
  const token = cli(["session", "create", "--workspace", "T0BENCH", "--channel", "C0BENCH", "--member", "U0BENCH"]).stdout.trim();
  const auth = `Basic ${Buffer.from(`session:${token}`).toString("base64")}`;
  const pool = () => new Pool(`http://127.0.0.1:${g.proxyPort}`, { connections: 64, pipelining: 1 });

  const modes: { name: string; args?: string[] }[] = [
    { name: "no sink" },
    { name: "dead sink (refused)", args: ["--type", "syslog", "--url", `tcp://127.0.0.1:${refused}`] },
    { name: "black-hole sink", args: ["--type", "syslog", "--url", `tcp://127.0.0.1:${(hole.address() as net.AddressInfo).port}`] },
    {
      name: "live OTLP sink",
      args: [
        "--type",
        "otlp",
        "--url",
        `http://127.0.0.1:${(otlp.address() as net.AddressInfo).port}`,
        "--format",
        "ocsf",
        "--start-at",
        "now",
      ],
    },
  ];
  const results = new Map<string, { rps: number; p50: number; p99: number; errors: number }[]>();
  for (let round = 0; round < ROUNDS; round++) {
    for (const m of modes) {
      if (m.args) {
        const r = cli(["sink", "add", "--name", "bench", ...m.args]);
        if (r.status !== 0) throw new Error(r.stderr);
      }
      const cell = await load(pool, `http://bench.test:${up.http}/`, `bench.test:${up.http}`, auth);
      if (m.args) {
        const lag = JSON.parse(cli(["sink", "list", "--json"]).stdout)[0];
        console.error(
          `  round ${round + 1} ${m.name}: ${cell.rps.toFixed(0)} req/s, p99 ${cell.p99.toFixed(2)} ms; sink lag ${lag.lag.events} event(s), last error ${lag.lastError ?? "none"}`,
        );
        cli(["sink", "remove", "bench"]);
      } else console.error(`  round ${round + 1} ${m.name}: ${cell.rps.toFixed(0)} req/s, p99 ${cell.p99.toFixed(2)} ms`);
      results.set(m.name, [...(results.get(m.name) ?? []), cell]);
    }
  }
  const base = median(results.get("no sink")!.map((c) => c.rps));
  console.log(
    `\nallowlisted HTTP, concurrency ${C}, ${SECONDS} s cells, median of ${ROUNDS} interleaved round(s), ${os.availableParallelism()} cores`,
  );
  console.log("| target | req/s | p50 ms | p99 ms | errors | vs no sink |\n|---|---|---|---|---|---|");
  for (const [name, cells] of results) {
    const rps = median(cells.map((c) => c.rps));
    console.log(
      `| ${name} | ${rps.toFixed(0)} | ${median(cells.map((c) => c.p50)).toFixed(2)} | ${median(cells.map((c) => c.p99)).toFixed(2)} | ${cells.reduce((n, c) => n + c.errors, 0)} | ${(rps / base).toFixed(3)}× |`,
    );
  }
  console.log(`live sink received ${(received / 1e6).toFixed(1)} MB of OTLP`);
  for (const s of holes) s.destroy();
  await g.stop();
  process.exit(0);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
