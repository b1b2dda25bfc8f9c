// npm run bench:proxy — side by side on loopback, in one run: direct, Gatehouse (allowlisted
// HTTP, allowlisted HTTPS tunnel, credentialed HTTPS through interception), two bare Node forward
// proxies with no rules (the classic http.request one, and one on Gatehouse's own relay: Node's
// server plus undici, the ceiling for Gatehouse's design) and Squid with an equivalent allowlist
// when it can be had, and Gatehouse again with metrics on and its audit streamed to a live sink.
// Concurrency 1, 16, 64; requests/s and p50/p99; then the ratios the proxy issue sets as goals.
//   BENCH_BASELINE_ROOT=/path/to/another/checkout (e.g. main, with node_modules): its Gatehouse on the same data directory, measured beside this one in the same rounds
//   BENCH_BASELINE_WORKERS=n (the baseline's GATEHOUSE_PROXY_WORKERS; with BENCH_BASELINE_ROOT=. it compares worker counts)
//   BENCH_SECONDS=5 (per cell)   BENCH_ROUNDS=1 (interleaved; medians)   BENCH_ONLY=regex (targets)   BENCH_CONCURRENCY=1,16,64   --soak (5 minutes of credentialed traffic, memory sampled)
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { Pool, ProxyAgent, type Dispatcher } from "undici";
import { createCertificateAuthority, issueLeafForNames } from "../lib/proxy/certificates";
import { startGatehouse } from "../e2e/fixtures/gatehouse";
import { startPgCluster } from "../scripts/pg-test-cluster.mjs";

const root = path.join(__dirname, "..");
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const CONCURRENCY = (process.env.BENCH_CONCURRENCY ?? "1,16,64").split(",").map(Number);
const ROUNDS = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 1));
const soak = process.argv.includes("--soak");
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "gh-bench-"));
fs.chmodSync(tmp, 0o755); // Squid drops privileges and must reach its config and logs
const children: ChildProcess[] = [];

function cleanup() {
  for (const c of children) c.kill("SIGINT");
}
process.on("exit", cleanup);
process.on("SIGINT", () => process.exit(130));

function startChild(cmd: string, args: string[], env: Record<string, string> = {}): ChildProcess {
  const child = spawn(cmd, args, { cwd: root, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  children.push(child);
  return child;
}

function firstJsonLine<T>(child: ChildProcess): Promise<T> {
  return new Promise((resolve, reject) => {
    let buf = "";
    child.stdout!.on("data", (d: Buffer) => {
      buf += d.toString();
      const line = buf.split("\n").find((l) => l.startsWith("{"));
      if (line) resolve(JSON.parse(line) as T);
    });
    child.once("exit", (code) => reject(new Error(`child exited ${code}`)));
  });
}

type Cell = { name: string; c: number; rps: number; p50: number; p99: number; errors: number; cpuUsPerReq?: number; round?: number };

/** A process and all its descendants (Gatehouse's proxy runs in child processes). */
function processTree(pid: number): number[] {
  const children = fs
    .readdirSync(`/proc/${pid}/task`)
    .flatMap((t) => fs.readFileSync(`/proc/${pid}/task/${t}/children`, "utf8").split(" ").filter(Boolean).map(Number));
  return [pid, ...children.flatMap(processTree)];
}

/** CPU time (user + system) a process, its threads and its child processes have used, in ms. */
function cpuMs(pid: number | undefined): number {
  if (!pid) return NaN;
  try {
    return processTree(pid).reduce((ms, p) => {
      const fields = fs.readFileSync(`/proc/${p}/stat`, "utf8").split(") ")[1]!.split(" ");
      return ms + ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // clock ticks at 100 Hz
    }, 0);
  } catch {
    return NaN;
  }
}

async function load(
  name: string,
  c: number,
  makeDispatcher: () => Dispatcher,
  opts: Dispatcher.RequestOptions,
  seconds = SECONDS,
): Promise<Cell> {
  const dispatcher = makeDispatcher();
  const latencies: number[] = [];
  let errors = 0;
  // Warm-up: connections, tunnels, leaf certificates, JIT.
  const warmUntil = performance.now() + 1000;
  const until = warmUntil + seconds * 1000;
  let measuring = false;
  let count = 0;
  const worker = async () => {
    for (;;) {
      const now = performance.now();
      if (now >= until) return;
      if (!measuring && now >= warmUntil) measuring = true;
      const t0 = performance.now();
      try {
        const r = await dispatcher.request(opts);
        await r.body.dump();
        if (r.statusCode !== 200) errors++;
      } catch {
        errors++;
      }
      if (t0 >= warmUntil) {
        latencies.push(performance.now() - t0);
        count++;
      }
    }
  };
  await Promise.all(Array.from({ length: c }, worker));
  await dispatcher.close();
  latencies.sort((a, b) => a - b);
  const q = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))] ?? NaN;
  return { name, c, rps: count / seconds, p50: q(0.5), p99: q(0.99), errors };
}

function trySquid(hostsFile: string, httpPort: number, httpsPort: number): { port: number; child: ChildProcess } | null {
  let squid = spawnSync("sh", ["-c", "command -v squid"], { encoding: "utf8" }).stdout.trim();
  if (!squid && process.getuid?.() === 0) {
    console.error("bench: installing squid with apt-get…");
    spawnSync(
      "sh",
      ["-c", "apt-get install -y -qq squid >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq squid >/dev/null 2>&1)"],
      { stdio: "inherit" },
    );
    squid = spawnSync("sh", ["-c", "command -v squid"], { encoding: "utf8" }).stdout.trim();
    // The package starts a system instance on 3128; this benchmark runs its own.
    spawnSync("sh", ["-c", "service squid stop >/dev/null 2>&1 || true"]);
  }
  if (!squid) return null;
  const dir = path.join(tmp, "squid");
  fs.mkdirSync(dir, { mode: 0o777 });
  fs.chmodSync(dir, 0o777);
  const port = 40000 + Math.floor(Math.random() * 20000);
  const conf = path.join(dir, "squid.conf");
  fs.writeFileSync(
    conf,
    [
      `http_port 127.0.0.1:${port}`,
      "acl allowed dstdomain bench.test cdn.bench.test api.bench.test",
      `acl bench_ports port ${httpPort} ${httpsPort}`,
      "acl CONNECT method CONNECT",
      "http_access deny !bench_ports",
      "http_access allow allowed",
      "http_access deny all",
      "cache deny all",
      `access_log stdio:${dir}/access.log`,
      `cache_log ${dir}/cache.log`,
      `pid_filename ${dir}/squid.pid`,
      `hosts_file ${hostsFile}`,
      `coredump_dir ${dir}`,
      "shutdown_lifetime 1 seconds",
      "",
    ].join("\n"),
  );
  const child = startChild(squid, ["-N", "-f", conf]);
  return { port, child };
}

/** A Gatehouse (on SQLite, or on PostgreSQL with `env`) with the bench policy, a credential and a session. */
async function benchGatehouse(dataDir: string, up: { http: number; https: number }, env: Record<string, string>, sinkUrl?: string) {
  const nodeArgs = (process.env.BENCH_GATEHOUSE_NODE_ARGS ?? "").split(" ").filter(Boolean);
  const logFile = `${dataDir}.log`;
  // Built first if the sources changed (start.mjs --build-only), then server.ts under nodeArgs.
  const gatehouseEnv = {
    GATEHOUSE_DATA_DIR: dataDir,
    GATEHOUSE_ALLOW_PRIVATE: "127.0.0.0/8",
    GATEHOUSE_RESOLVE: "bench.test=127.0.0.1,cdn.bench.test=127.0.0.1,api.bench.test=127.0.0.1",
    GATEHOUSE_UPSTREAM_CA: path.join(tmp, "up-ca.pem"),
    GATEHOUSE_OWNER_EMAIL: "bench@gatehouse.test",
    GATEHOUSE_OWNER_PASSWORD: "bench-password-not-real",
    ...env,
  };
  const gatehouse = await startGatehouse(gatehouseEnv, { nodeArgs, logFile });
  children.push(gatehouse.child);
  const { port, proxyPort } = gatehouse;
  if (process.env.BENCH_DEBUG) console.error(`bench: Gatehouse log in ${logFile}`);
  const cli = (args: string[], input?: string) =>
    spawnSync(process.execPath, [path.join(root, "bin", "gatehouse.js"), ...args], {
      cwd: root,
      env: { ...process.env, ...env, GATEHOUSE_DATA_DIR: dataDir, GATEHOUSE_PROXY_PORT: String(proxyPort), PORT: String(port) },
      input,
      encoding: "utf8",
    });
  const policyFile = `${dataDir}-policy.json`;
  fs.writeFileSync(
    policyFile,
    JSON.stringify({
      version: 1,
      memberAccess: { mode: "anyone" },
      bundles: [
        {
          name: "bench",
          scope: { type: "organization" },
          domains: [`bench.test:${up.http}`, `cdn.bench.test:${up.https}`],
          connections: [
            {
              name: "api",
              serviceAccount: "bench@acme.example",
              inject: { type: "bearer" },
              allowedWebsites: [`api.bench.test:${up.https}`],
            },
          ],
        },
      ],
    }),
  );
  if (cli(["policy", "import", policyFile]).status !== 0) throw new Error("policy import failed");
  if (cli(["credential", "set", "bench/api"], "fake-bench-token").status !== 0) throw new Error("credential set failed");
  if (sinkUrl && cli(["sink", "add", "--name", "bench", "--type", "syslog", "--url", sinkUrl]).status !== 0)
    throw new Error("sink add failed");
  const token = cli(["session", "create", "--workspace", "T0BENCH", "--channel", "C0BENCH", "--member", "U0BENCH"]).stdout.trim();
  const gatehouseCa = fs.readFileSync(path.join(dataDir, "ca.pem"), "utf8");
  const proxyAuth = `Basic ${Buffer.from(`session:${token}`).toString("base64")}`;
  return { gatehouse, proxyPort, proxyAuth, gatehouseCa, gatehouseEnv, cli };
}

async function main() {
  console.error(`bench: ${SECONDS}s per cell after 1s warm-up; work in ${tmp}`);
  const ca = await createCertificateAuthority("bench upstream CA");
  const leaf = await issueLeafForNames({
    names: ["bench.test", "cdn.bench.test", "api.bench.test"],
    caCertPem: ca.certPem,
    caKeyPem: ca.keyPem,
  });
  fs.writeFileSync(path.join(tmp, "up-ca.pem"), ca.certPem);
  fs.writeFileSync(path.join(tmp, "leaf.pem"), leaf.certPem);
  fs.writeFileSync(path.join(tmp, "leaf.key"), leaf.keyPem);
  const hostsFile = path.join(tmp, "hosts");
  fs.writeFileSync(hostsFile, "127.0.0.1 bench.test cdn.bench.test api.bench.test\n");

  const upstream = startChild(process.execPath, [
    path.join(root, "bench", "upstream.mjs"),
    path.join(tmp, "leaf.pem"),
    path.join(tmp, "leaf.key"),
  ]);
  const up = await firstJsonLine<{ http: number; https: number }>(upstream);

  const dataDir = path.join(tmp, "data");
  const { gatehouse, proxyPort, proxyAuth, gatehouseCa, gatehouseEnv } = await benchGatehouse(dataDir, up, {});
  // The same Gatehouse, one replica on PostgreSQL (a throwaway cluster, fsync on), beside it.
  const pgCluster =
    process.env.BENCH_PG === "0"
      ? null
      : await startPgCluster({ durable: true }).catch(
          (err: Error) => (console.error(`bench: no PostgreSQL (${err.message}); SQLite only`), null),
        );
  const onPg = pgCluster
    ? await benchGatehouse(path.join(tmp, "data-pg"), up, {
        GATEHOUSE_DATABASE_URL: pgCluster.url,
        GATEHOUSE_MASTER_KEY: crypto.randomBytes(32).toString("base64"),
      })
    : null;
  if (pgCluster) process.on("exit", () => pgCluster.stopNow());

  // The same Gatehouse with metrics on (GATEHOUSE_METRICS_TOKEN) and its audit streamed to a live
  // syslog sink (a receiver here that reads every byte), on a data directory of its own so that
  // the sink's sender works for this server alone (BENCH_METRICS=0 leaves it out).
  let syslogBytes = 0;
  const syslog = net.createServer((socket) => socket.on("data", (chunk: Buffer) => void (syslogBytes += chunk.length)));
  await new Promise<void>((resolve) => syslog.listen(0, "127.0.0.1", resolve));
  syslog.unref();
  const metricsOn =
    process.env.BENCH_METRICS === "0"
      ? null
      : await benchGatehouse(
          path.join(tmp, "data-metrics"),
          up,
          { GATEHOUSE_METRICS_TOKEN: "bench-metrics-token-not-real-0000" },
          `tcp://127.0.0.1:${(syslog.address() as net.AddressInfo).port}`,
        );

  // Another checkout's Gatehouse (before a change, say) on the same data directory, interleaved
  // with this one in the same rounds: the one fair before/after on a shared machine. Not built:
  // its proxy runs from its sources, and its dashboard is not measured.
  const baselineRoot = process.env.BENCH_BASELINE_ROOT;
  const baseline = baselineRoot
    ? await (
        (await import(path.join(path.resolve(baselineRoot), "e2e", "fixtures", "gatehouse.ts"))) as {
          startGatehouse: typeof startGatehouse;
        }
      ).startGatehouse(
        // BENCH_BASELINE_WORKERS: the baseline's proxy workers (BENCH_BASELINE_ROOT=. compares worker counts).
        { ...gatehouseEnv, ...(process.env.BENCH_BASELINE_WORKERS ? { GATEHOUSE_PROXY_WORKERS: process.env.BENCH_BASELINE_WORKERS } : {}) },
        { logFile: path.join(tmp, "gatehouse-baseline.log"), build: false },
      )
    : null;
  if (baseline) children.push(baseline.child);

  const bare = startChild(process.execPath, [path.join(root, "bench", "bare-proxy.mjs")]);
  const barePort = (await firstJsonLine<{ port: number }>(bare)).port;
  const bareUndici = startChild(process.execPath, [path.join(root, "bench", "bare-undici-proxy.mjs")]);
  const bareUndiciPort = (await firstJsonLine<{ port: number }>(bareUndici)).port;
  const squid = trySquid(hostsFile, up.http, up.https);
  if (squid) await new Promise((r) => setTimeout(r, 2000));

  const upCa = [ca.certPem];
  const viaPool = (proxy: number, auth?: string) => ({
    make: () => new Pool(`http://127.0.0.1:${proxy}`, { connections: 64, pipelining: 1 }),
    opts: {
      method: "GET" as const,
      path: `http://bench.test:${up.http}/`,
      headers: { host: `bench.test:${up.http}`, ...(auth ? { "proxy-authorization": auth } : {}) },
    },
  });
  const viaConnect = (proxy: number, host: string, ca: string[], auth?: string) => ({
    make: () => new ProxyAgent({ uri: `http://127.0.0.1:${proxy}`, ...(auth ? { token: auth } : {}), requestTls: { ca }, connections: 64 }),
    opts: { method: "GET" as const, origin: `https://${host}:${up.https}`, path: "/" },
  });
  const targets: { name: string; make: () => Dispatcher; opts: Dispatcher.RequestOptions; pid?: number }[] = [
    { name: "direct http", make: () => new Pool(`http://127.0.0.1:${up.http}`, { connections: 64 }), opts: { method: "GET", path: "/" } },
    {
      name: "direct https",
      make: () => new Pool(`https://127.0.0.1:${up.https}`, { connections: 64, connect: { ca: upCa, servername: "cdn.bench.test" } }),
      opts: { method: "GET", path: "/" },
    },
    { name: "bare node http", ...viaPool(barePort), pid: bare.pid },
    { name: "bare node tunnel", ...viaConnect(barePort, "cdn.bench.test", upCa), pid: bare.pid },
    { name: "bare node+undici http", ...viaPool(bareUndiciPort), pid: bareUndici.pid },
    ...(squid
      ? [
          { name: "squid http", ...viaPool(squid.port), pid: squid.child.pid },
          { name: "squid tunnel", ...viaConnect(squid.port, "cdn.bench.test", upCa), pid: squid.child.pid },
        ]
      : []),
    { name: "gatehouse http allowlisted", ...viaPool(proxyPort, proxyAuth), pid: gatehouse.pid },
    ...(metricsOn
      ? [{ name: "gatehouse http +metrics +sink", ...viaPool(metricsOn.proxyPort, metricsOn.proxyAuth), pid: metricsOn.gatehouse.pid }]
      : []),
    ...(baseline
      ? [
          { name: "baseline http allowlisted", ...viaPool(baseline.proxyPort, proxyAuth), pid: baseline.pid },
          {
            name: "baseline https credentialed",
            ...viaConnect(baseline.proxyPort, "api.bench.test", [gatehouseCa], proxyAuth),
            pid: baseline.pid,
          },
        ]
      : []),
    { name: "gatehouse tunnel allowlisted", ...viaConnect(proxyPort, "cdn.bench.test", upCa, proxyAuth), pid: gatehouse.pid },
    { name: "gatehouse https credentialed", ...viaConnect(proxyPort, "api.bench.test", [gatehouseCa], proxyAuth), pid: gatehouse.pid },
    ...(onPg ? [{ name: "gatehouse(pg) http allowlisted", ...viaPool(onPg.proxyPort, onPg.proxyAuth), pid: onPg.gatehouse.pid }] : []),
  ];

  const only = process.env.BENCH_ONLY ? new RegExp(process.env.BENCH_ONLY) : null;
  if (only) targets.splice(0, targets.length, ...targets.filter((t) => only.test(t.name) || t.name === "direct http"));
  // Rounds interleave the targets (a, b, c, a, b, c, …), so a slow spell of the machine lands
  // on every target alike; each figure is then the median over the rounds, and each ratio the
  // median of the per-round ratios, with its range.
  const cells: Cell[] = [];
  for (const c of CONCURRENCY) {
    for (let round = 0; round < ROUNDS; round++) {
      for (const t of targets) {
        const cpuBefore = cpuMs(t.pid);
        const cell = await load(t.name, c, t.make, t.opts);
        // Includes the 1 s warm-up, so it slightly overstates; the same for every target.
        cell.cpuUsPerReq = ((cpuMs(t.pid) - cpuBefore) * 1000) / (cell.rps * (SECONDS + 1));
        cell.round = round;
        cells.push(cell);
        console.error(
          `  ${ROUNDS > 1 ? `round ${round + 1}  ` : ""}${t.name.padEnd(30)} c=${String(c).padEnd(3)} ${cell.rps.toFixed(0).padStart(7)} req/s  p50 ${cell.p50.toFixed(2)} ms  p99 ${cell.p99.toFixed(2)} ms${Number.isFinite(cell.cpuUsPerReq) ? `  proxy CPU ${cell.cpuUsPerReq!.toFixed(0)} µs/req` : ""}${cell.errors ? `  errors ${cell.errors}` : ""}`,
        );
      }
    }
  }

  const median = (xs: number[]) => {
    const sorted = xs.filter(Number.isFinite).sort((a, b) => a - b);
    const mid = sorted.length / 2;
    return sorted.length === 0 ? NaN : sorted.length % 2 ? sorted[Math.floor(mid)]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  };
  const runs = (name: string, c: number) => cells.filter((x) => x.name === name && x.c === c);
  const med = (name: string, c: number, key: "rps" | "p50" | "p99" | "cpuUsPerReq") => median(runs(name, c).map((x) => x[key] ?? NaN));
  console.log(
    `\nproxy benchmark (loopback, ${os.cpus().length} cores, ${SECONDS}s per cell${ROUNDS > 1 ? `, medians of ${ROUNDS} interleaved rounds` : ""}; load generator, proxy and upstream share the machine)\n`,
  );
  console.log(
    `${"target".padEnd(30)} ${CONCURRENCY.filter((c, i, all) => all.indexOf(c) === i)
      .map((c) => `c=${c}`.padStart(24))
      .join("")}   proxy CPU µs/req`,
  );
  const levels = CONCURRENCY.filter((c, i, all) => all.indexOf(c) === i);
  for (const t of targets) {
    const row = levels.map((c) => {
      const errors = runs(t.name, c).some((x) => x.errors > 0);
      return `${med(t.name, c, "rps").toFixed(0)}/s ${med(t.name, c, "p50").toFixed(2)}/${med(t.name, c, "p99").toFixed(2)}ms${errors ? "!" : ""}`.padStart(
        24,
      );
    });
    const cpu = levels
      .map((c) => med(t.name, c, "cpuUsPerReq"))
      .map((x) => (Number.isFinite(x) ? x.toFixed(0) : "-"))
      .join(" / ");
    console.log(`${t.name.padEnd(30)} ${row.join("")}   ${cpu}`);
  }
  /** Median over the rounds of a per-round figure, with the range when there are several rounds. */
  const perRound = (c: number, f: (round: number) => number, digits: number, unit: string) => {
    const xs = Array.from({ length: ROUNDS }, (_, r) => f(r)).filter(Number.isFinite);
    if (xs.length === 0) return "n/a";
    const range = xs.length > 1 ? ` (${Math.min(...xs).toFixed(digits)}–${Math.max(...xs).toFixed(digits)})` : "";
    return `${median(xs).toFixed(digits)}${unit}${range}`;
  };
  const cellOf = (name: string, c: number, round: number) => cells.find((x) => x.name === name && x.c === c && x.round === round);
  const ratio = (a: string, b: string, c: number, key: "rps" | "cpuUsPerReq" = "rps") =>
    perRound(c, (r) => (cellOf(a, c, r)?.[key] ?? NaN) / (cellOf(b, c, r)?.[key] ?? NaN), 2, "×");
  console.log("\nratios (requests/s unless noted)");
  for (const c of [16, 64]) {
    console.log(
      `  c=${c}: gatehouse http allowlisted / squid http           ${ratio("gatehouse http allowlisted", "squid http", c)}   (goal ≥ 1.0×)`,
    );
    console.log(
      `  c=${c}: gatehouse http allowlisted / bare node http       ${ratio("gatehouse http allowlisted", "bare node http", c)}   (goal ≥ 0.8×)`,
    );
    console.log(
      `  c=${c}: gatehouse http allowlisted / bare node+undici     ${ratio("gatehouse http allowlisted", "bare node+undici http", c)}   (the same relay: what Gatehouse's own work costs)`,
    );
    console.log(
      `  c=${c}: gatehouse https credentialed / squid tunnel       ${ratio("gatehouse https credentialed", "squid tunnel", c)}   (goal ≥ 0.5×)`,
    );
    if (metricsOn)
      console.log(
        `  c=${c}: gatehouse http +metrics +sink / gatehouse http    ${ratio("gatehouse http +metrics +sink", "gatehouse http allowlisted", c)}   (goal ≥ 0.95×)`,
      );
    console.log(`  c=${c}: gatehouse tunnel allowlisted / squid tunnel       ${ratio("gatehouse tunnel allowlisted", "squid tunnel", c)}`);
    if (baseline) {
      console.log(
        `  c=${c}: gatehouse http / baseline http                   ${ratio("gatehouse http allowlisted", "baseline http allowlisted", c)}`,
      );
      console.log(
        `  c=${c}: CPU per request, gatehouse http / baseline http  ${ratio("gatehouse http allowlisted", "baseline http allowlisted", c, "cpuUsPerReq")}`,
      );
      console.log(
        `  c=${c}: CPU per request, baseline http / squid http      ${ratio("baseline http allowlisted", "squid http", c, "cpuUsPerReq")}`,
      );
      console.log(
        `  c=${c}: gatehouse https credentialed / baseline          ${ratio("gatehouse https credentialed", "baseline https credentialed", c)}`,
      );
    }
    console.log(
      `  c=${c}: CPU per request, gatehouse http / squid http      ${ratio("gatehouse http allowlisted", "squid http", c, "cpuUsPerReq")}   (steadier than requests/s on a shared machine)`,
    );
    if (onPg)
      console.log(
        `  c=${c}: gatehouse http on PostgreSQL / on SQLite         ${ratio("gatehouse(pg) http allowlisted", "gatehouse http allowlisted", c)}   (goal ≥ 0.9×; one replica)`,
      );
  }
  const added = (name: string) =>
    perRound(1, (r) => ((cellOf(name, 1, r)?.p50 ?? NaN) - (cellOf("direct http", 1, r)?.p50 ?? NaN)) * 1000, 0, " µs");
  console.log(
    `  c=1 p50 added over direct: gatehouse http ${added("gatehouse http allowlisted")}, squid http ${added("squid http")}, bare node ${added("bare node http")}, bare node+undici ${added("bare node+undici http")}${baseline ? `, baseline http ${added("baseline http allowlisted")}` : ""}`,
  );
  console.log(
    `  mitmproxy: ${spawnSync("sh", ["-c", "command -v mitmdump"], { encoding: "utf8" }).stdout.trim() ? "installed but not wired in" : "not installed (not in Debian's or npm's packages here)"}`,
  );
  if (!squid) console.log("  squid: not installed and not root, so not measured");
  if (metricsOn) {
    const [sink] = JSON.parse(metricsOn.cli(["sink", "list", "--json"]).stdout) as { lag: { events: number }; lastError: string | null }[];
    console.log(
      `  +metrics +sink: the syslog receiver took ${(syslogBytes / 2 ** 20).toFixed(1)} MiB; sink lag at the end ${sink?.lag.events ?? "?"} event(s), last error ${sink?.lastError ?? "none"}`,
    );
  }

  if (soak) {
    console.log("\nsoak: credentialed HTTPS through interception, c=16, 5 minutes; Gatehouse's memory (all its processes) and disk:");
    const rss = (pid: number): number =>
      processTree(pid).reduce((kib, p) => kib + Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${p}/status`, "utf8"))?.[1] ?? 0), 0) /
      1024;
    const dirMiB = (dir: string) => fs.readdirSync(dir).reduce((sum, f) => sum + fs.statSync(path.join(dir, f)).size, 0) / 2 ** 20;
    const sample = () => ({
      rss: rss(gatehouse.pid!),
      journal: dirMiB(path.join(dataDir, "journal")),
      wal: fs.statSync(path.join(dataDir, "gatehouse.db-wal")).size / 2 ** 20,
    });
    const samples = [sample()];
    const t = targets.find((x) => x.name === "gatehouse https credentialed")!;
    const timer = setInterval(() => samples.push(sample()), 10_000);
    const cell = await load("soak", 16, t.make, t.opts, Number(process.env.BENCH_SOAK_SECONDS ?? 300));
    clearInterval(timer);
    const series = (k: "rss" | "journal" | "wal") =>
      `first ${samples[0]![k].toFixed(0)}, last ${samples[samples.length - 1]![k].toFixed(0)}, max ${Math.max(...samples.map((x) => x[k])).toFixed(0)}`;
    console.log(`  ${cell.rps.toFixed(0)} req/s, ${cell.errors} errors, ${samples.length} samples`);
    console.log(`  RSS MiB ${series("rss")}; journal MiB ${series("journal")}; WAL MiB ${series("wal")}`);
    // The shape, not just the ends: warming caches level off, a leak keeps climbing.
    console.log(
      `  RSS MiB each minute: ${samples
        .filter((_, i) => i % 6 === 0)
        .map((x) => x.rss.toFixed(0))
        .join(", ")}`,
    );
  }
  cleanup();
  process.exit(0);
}

main().catch((err) => {
  console.error(err);
  cleanup();
  process.exit(1);
});
