// Audit streaming through the real process: a Gatehouse of its own streams every event to three
// real receivers (RFC 5424 syslog over TLS, an HTTPS webhook checking the HMAC, an OTLP/HTTP JSON
// collector); a receiver that is down lags and then catches up with nothing missing; cursors
// survive a restart.
import fs from "node:fs";
import path from "node:path";
import { expect, test } from "@playwright/test";
import { eventHash, GENESIS_HASH, type HashedEvent } from "../lib/audit/events";
import { otlpReceiver, syslogReceiver, webhookReceiver, type Receiver } from "./fixtures/audit-receivers";
import { e2eGatehouseEnv, gatehouseCli, startGatehouse, type Gatehouse } from "./fixtures/gatehouse";
import { TEST_HOSTS } from "./fixtures/hosts";
import { run } from "./fixtures/sandbox";
import { readState } from "./fixtures/state";

const OWNER = { email: "stream-owner@gatehouse.test", password: "stream-owner-password-not-real-1" };
const SECRET = "whsec-test-signing-secret-not-real-1";
let g: Gatehouse;
let syslog: Receiver;
let webhook: ReturnType<typeof webhookReceiver>;
let otlp: Receiver;
let env: Record<string, string>;

test.describe.configure({ mode: "serial" });
// Each test runs several CLI processes (seconds apiece on a loaded 2-core machine).
test.describe.configure({ timeout: 180_000 });

const METRICS_TOKEN = "metrics-token-not-real-stream-0123456789";

/** A sink's delivery lag (events) as GET /metrics shows it. */
async function scrapedLag(sink: string): Promise<number | undefined> {
  const text = await (await fetch(`${g.baseURL}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })).text();
  const line = text.split("\n").find((l) => l.startsWith(`gatehouse_stream_delivery_lag_events{sink="${sink}"}`));
  return line === undefined ? undefined : Number(line.split(" ").pop());
}

test.beforeAll(async () => {
  test.setTimeout(180_000);
  const state = readState();
  const tlsOpts = {
    cert: fs.readFileSync(path.join(state.upstreamCertDir, "leaf.pem"), "utf8"),
    key: fs.readFileSync(path.join(state.upstreamCertDir, "leaf.key"), "utf8"),
  };
  syslog = syslogReceiver(tlsOpts);
  webhook = webhookReceiver(tlsOpts, SECRET);
  otlp = otlpReceiver();
  await Promise.all([syslog.start(), webhook.start(), otlp.start()]);
  env = {
    ...e2eGatehouseEnv(state.upstreamCertDir, OWNER, TEST_HOSTS),
    GATEHOUSE_PROXY_WORKERS: "1",
    // Short back-off so a receiver that comes back is caught up in a second, not a minute.
    GATEHOUSE_AUDIT_STREAM: "poll=100ms,backoff=100ms,backoff-max=500ms,batch=20",
    GATEHOUSE_METRICS_TOKEN: METRICS_TOKEN,
  };
  g = await startGatehouse(env, { build: false });
  const add = (args: string[], input = "") => {
    const r = gatehouseCli(g, ["sink", "add", ...args], input);
    expect(r.code, r.stderr).toBe(0);
  };
  add(["--name", "siem-syslog", "--type", "syslog", "--url", `tls://127.0.0.1:${syslog.port}`]);
  add(["--name", "siem-webhook", "--type", "webhook", "--url", `https://localhost:${webhook.port}/ingest`], SECRET + "\n");
  add(["--name", "otel", "--type", "otlp", "--format", "ocsf", "--url", `http://127.0.0.1:${otlp.port}`]);
});

test.afterAll(async () => {
  await g?.stop();
  await Promise.all([syslog?.stop(), webhook?.stop(), otlp?.stop()]);
});

/** Every live event as `audit export` gives it (newest first there): id → hash. */
function exported(): Map<string, { seq: number; hash: string; kind: string }> {
  const r = gatehouseCli(g, ["audit", "export", "--format", "jsonl"]);
  expect(r.code, r.stderr).toBe(0);
  return new Map(
    r.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l))
      .map((e) => [e.id, { seq: e.seq, hash: e.hash, kind: e.kind }]),
  );
}

let token = "";
/** Egress (blocked requests through the proxy), access (a session, a refused API key) and admin (an API key) events. */
async function traffic(n: number): Promise<void> {
  if (!token) {
    const s = gatehouseCli(g, ["session", "create", "--workspace", "TSTREAM", "--channel", "C1", "--member", "U1", "--org-member"]);
    expect(s.code, s.stderr).toBe(0);
    token = s.stdout.trim();
  }
  for (let i = 0; i < n; i++) {
    const r = await run("curl", [
      "-sS",
      "-o",
      "/dev/null",
      "-w",
      "%{http_code}",
      "-x",
      `http://session:${token}@127.0.0.1:${g.proxyPort}`,
      `http://evil.gh.test/stream-${i}?q=secret-query-not-real`,
    ]);
    expect(r.stdout).toBe("403");
  }
  const refused = await fetch(`${g.baseURL}/api/v1/policy`, { headers: { authorization: "Bearer gh_not_a_real_key_at_all" } });
  expect(refused.status).toBe(401);
  expect(gatehouseCli(g, ["apikey", "create", "--name", `k${Date.now()}`, "--role", "auditor"]).code).toBe(0);
}

/** The CLI without blocking this process, which hosts the receivers (`gatehouseCli` waits synchronously). */
async function cliAsync(args: string[]): Promise<{ code: number | null; stderr: string }> {
  const r = await run(process.execPath, [path.join(__dirname, "..", "bin", "gatehouse.js"), ...args], {
    env: g.env as Record<string, string>,
  });
  return { code: r.status, stderr: r.stderr };
}

async function allArrive(r: Receiver, want: Map<string, unknown>): Promise<void> {
  await expect.poll(() => [...want.keys()].filter((id) => !r.events.has(id)).length, { timeout: 30_000 }).toBe(0);
}

/** What a receiver got re-checks as one hash chain: each event's hash, each link. */
function checkChain(r: Receiver): void {
  const rows = [...r.events.values()].sort((a, b) => a.seq - b.seq);
  let prev = GENESIS_HASH;
  for (const [i, e] of rows.entries()) {
    expect(e.seq).toBe(i + 1);
    expect(e.prevHash).toBe(prev);
    expect(eventHash(e.body as unknown as HashedEvent)).toBe(e.hash);
    prev = e.hash;
  }
}

test("every event of a run reaches syslog, the webhook and OTLP, with ids and hashes that verify", async () => {
  await traffic(4);
  // The egress journal reaches the chain within ~50 ms; the export imports it first.
  const want = exported();
  expect([...want.values()].map((e) => e.kind).sort()).toEqual(expect.arrayContaining(["access", "admin", "egress"]));
  for (const r of [syslog, webhook, otlp]) await allArrive(r, want);
  for (const r of [syslog, webhook, otlp]) {
    for (const [id, e] of want) expect(r.events.get(id)?.hash, id).toBe(e.hash);
    expect(r.problems).toEqual([]);
  }
  checkChain(syslog);
  checkChain(webhook);
  expect(webhook.rejected).toBe(0);
  // OCSF on the OTLP sink: the class follows the kind; the chain fields ride along.
  for (const e of otlp.events.values()) {
    const kind = want.get(e.id)?.kind;
    if (!kind) continue;
    expect(e.body.class_uid).toBe(kind === "egress" ? 4002 : kind === "access" ? 3002 : 6003);
    expect((e.body.metadata as { uid: string }).uid).toBe(e.id);
  }
  // No query string and no signing secret anywhere it could leak.
  const everything = JSON.stringify([...syslog.events.values(), ...webhook.events.values(), ...otlp.events.values()]);
  expect(everything).not.toContain("secret-query-not-real");
  expect(everything).not.toContain(SECRET);
  const list = gatehouseCli(g, ["sink", "list", "--json"]);
  expect(list.stdout).not.toContain(SECRET);
  expect(JSON.parse(list.stdout).map((s: { name: string; secretSet: boolean }) => [s.name, s.secretSet])).toEqual([
    ["siem-syslog", false],
    ["siem-webhook", true],
    ["otel", false],
  ]);
  expect(g.output()).not.toContain(SECRET);
});

test("a receiver that is down lags, shows its error, and catches up with nothing missing", async () => {
  await webhook.stop();
  await traffic(3);
  await expect
    .poll(() => JSON.parse(gatehouseCli(g, ["sink", "list", "--json"]).stdout).find((s: { name: string }) => s.name === "siem-webhook"), {
      timeout: 20_000,
    })
    .toMatchObject({ lastError: expect.stringContaining("ECONNREFUSED"), lag: { events: expect.any(Number) } });
  const lagging = JSON.parse(gatehouseCli(g, ["sink", "list", "--json"]).stdout).find((s: { name: string }) => s.name === "siem-webhook");
  expect(lagging.lag.events).toBeGreaterThan(0);
  expect(await scrapedLag("siem-webhook")).toBeGreaterThan(0);
  // The other sinks are not held up by the dead one.
  const want = exported();
  await allArrive(syslog, want);
  await allArrive(otlp, want);
  expect([...want.keys()].some((id) => !webhook.events.has(id))).toBe(true);

  await webhook.start();
  await allArrive(webhook, exported());
  checkChain(webhook);
  expect(webhook.problems).toEqual([]);
  await expect
    .poll(
      () =>
        JSON.parse(gatehouseCli(g, ["sink", "list", "--json"]).stdout).find((s: { name: string }) => s.name === "siem-webhook").lag.events,
    )
    .toBe(0);
  expect(await scrapedLag("siem-webhook")).toBe(0);
  expect(await scrapedLag("otel")).toBe(0);
});

test("a wrong signing secret is refused by the receiver and shows as the sink's error; test events and removal", async () => {
  const add = gatehouseCli(
    g,
    ["sink", "add", "--name", "wrong-key", "--type", "webhook", "--url", `https://localhost:${webhook.port}/ingest`, "--start-at", "now"],
    "whsec-some-other-secret-not-real\n",
  );
  expect(add.code, add.stderr).toBe(0);
  const test1 = await cliAsync(["sink", "test", "wrong-key"]);
  expect(test1.code).toBe(1);
  expect(test1.stderr).toContain("HTTP 401");
  expect((await cliAsync(["sink", "test", "siem-webhook"])).code).toBe(0);
  expect(gatehouseCli(g, ["sink", "remove", "wrong-key"]).code).toBe(0);
  const actions = gatehouseCli(g, ["audit", "export", "--format", "jsonl", "--action", "sink.removed"]).stdout;
  expect(actions).toContain('"name":"wrong-key"');
  expect(actions).not.toContain("whsec-some-other-secret-not-real");
  // Bad arguments are usage errors naming the field.
  const bad = gatehouseCli(g, ["sink", "add", "--name", "x", "--type", "webhook", "--url", "http://127.0.0.1:1/"], SECRET + "\n");
  expect(bad.code).toBe(2);
  expect(bad.stderr).toContain("url: must be an https:// URL");
});

test("cursors survive a restart: events written while it was down are sent, the rest is not sent again", async () => {
  test.setTimeout(180_000);
  const before = { syslog: syslog.duplicates, webhook: webhook.duplicates, otlp: otlp.duplicates };
  await g.stop();
  // The CLI writes to the same data directory while the server is down.
  for (let i = 0; i < 3; i++) expect(gatehouseCli(g, ["apikey", "create", "--name", `offline${i}`, "--role", "auditor"]).code).toBe(0);
  g = await startGatehouse(
    { ...env, PORT: String(g.port), GATEHOUSE_PROXY_PORT: String(g.proxyPort), GATEHOUSE_DATA_DIR: g.dataDir },
    { build: false },
  );
  const want = exported();
  for (const r of [syslog, webhook, otlp]) await allArrive(r, want);
  // At least once: a batch in flight at the stop may come again, but not the whole log.
  expect(syslog.duplicates - before.syslog).toBeLessThanOrEqual(20);
  expect(webhook.duplicates - before.webhook).toBeLessThanOrEqual(20);
  expect(otlp.duplicates - before.otlp).toBeLessThanOrEqual(20);
  checkChain(syslog);
});
