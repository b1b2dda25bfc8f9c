// GET /metrics through the real process: off without GATEHOUSE_METRICS_TOKEN, 401 without the
// bearer, and counters that equal the traffic sent, over two proxy workers (each counts once),
// on both the dashboard port and the proxy port (origin form).
import fs from "node:fs";
import net from "node:net";
import { expect, test } from "@playwright/test";
import parsePrometheusTextFormat from "parse-prometheus-text-format";
import { state } from "./fixtures/app";
import { checkLogClean } from "./fixtures/logs";
import { freePort } from "./fixtures/ports";
import {
  bundle,
  curl,
  expectNoSecretCrossed,
  gh,
  httpsUrl,
  httpUrl,
  ownerKey,
  proxySuite,
  proxyWorkers,
  token,
  up,
  updatePolicy,
} from "./fixtures/proxy-suite";

const METRICS_TOKEN = "metrics-token-not-real-0123456789abcdef";

// A Gatehouse of its own: two proxy workers (the e2e default) with metrics on.
proxySuite({ env: { GATEHOUSE_METRICS_TOKEN: METRICS_TOKEN } });

type Family = ReturnType<typeof parsePrometheusTextFormat>[number];

async function scrape(
  where: "dashboard" | "proxy",
  auth: string | null = `Bearer ${METRICS_TOKEN}`,
): Promise<{ status: number; text: string; families: Family[] }> {
  const base = where === "dashboard" ? gh.baseURL : `http://127.0.0.1:${gh.proxyPort}`;
  const res = await fetch(`${base}/metrics`, { headers: auth ? { authorization: auth } : {} });
  const text = await res.text();
  return { status: res.status, text, families: res.status === 200 ? parsePrometheusTextFormat(text) : [] };
}

/** The value of one series (0 when it is not there yet). */
function value(families: Family[], name: string, labels: Record<string, string> = {}): number {
  const family = families.find((f) => f.name === name);
  const series = family?.metrics.filter((m) => Object.entries(labels).every(([k, v]) => (m.labels ?? {})[k] === v)) ?? [];
  return series.reduce((sum, m) => sum + Number(m.value ?? m.count ?? 0), 0);
}

test("off without GATEHOUSE_METRICS_TOKEN: /metrics is not there on either port", async () => {
  expect((await fetch(`${state.baseURL}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })).status).toBe(404);
  const proxyAnswer = await fetch(`http://127.0.0.1:${state.proxyPort}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
  expect(proxyAnswer.status).not.toBe(200);
  expect(await proxyAnswer.text()).not.toContain("gatehouse_egress_requests_total");
});

test("401 without the bearer token or with a wrong one, on both ports", async () => {
  for (const where of ["dashboard", "proxy"] as const) {
    for (const auth of [
      null,
      "Bearer wrong-token-0123456789abcdef",
      `Basic ${Buffer.from(`x:${METRICS_TOKEN}`).toString("base64")}`,
      `Bearer ${METRICS_TOKEN}x`,
    ]) {
      const r = await scrape(where, auth);
      expect(r.status, `${where} ${auth}`).toBe(401);
      expect(r.text).not.toContain("gatehouse_");
    }
  }
});

test("counters equal the traffic sent: allowlisted, credentialed, blocked, upstream failures and credential refusals", async () => {
  expect(proxyWorkers()).toHaveLength(2);
  const deadPort = await freePort();
  await updatePolicy(ownerKey, (doc) =>
    doc.bundles.find((b: { name: string }) => b.name === bundle).domains.push(`registry.gh.test:${deadPort}`),
  );
  const before = (await scrape("dashboard")).families;
  const series = {
    allowlisted: { outcome: "allowlisted", bundle, connection: "" },
    credentialed: { outcome: "credentialed", bundle, connection: "github" },
    blocked: { outcome: "blocked", bundle: "", connection: "" },
  };

  // Each curl is a connection of its own: they spread over both workers.
  const ALLOWLISTED = 7;
  const CREDENTIALED = 5;
  const BLOCKED = 4;
  for (let i = 0; i < ALLOWLISTED; i++) expect((await curl([httpUrl("registry.gh.test", `/m/${i}?q=${i}`)])).status).toBe(200);
  for (let i = 0; i < CREDENTIALED; i++) expect((await curl([httpsUrl("api.gh.test", `/repos/acme/m${i}`)])).status).toBe(200);
  for (let i = 0; i < BLOCKED; i++) expect((await curl([httpUrl("evil.gh.test", `/m/${i}`)])).status).toBe(403);
  expect((await curl([`http://registry.gh.test:${deadPort}/dead`])).status).toBe(502);
  expect((await curl([httpsUrl("api.gh.test", "/repos/acme/status/401")])).status).toBe(401);
  expect((await curl([httpsUrl("api.gh.test", "/repos/acme/status/403")])).status).toBe(403);

  // Every scrape, from either port (answered by either worker), sees the same totals.
  for (const where of ["dashboard", "proxy", "proxy", "dashboard"] as const) {
    const r = await scrape(where);
    expect(r.status).toBe(200);
    const after = r.families;
    const delta = (name: string, labels: Record<string, string>) => value(after, name, labels) - value(before, name, labels);
    expect(delta("gatehouse_egress_requests_total", series.allowlisted), where).toBe(ALLOWLISTED + 1);
    expect(delta("gatehouse_egress_requests_total", series.credentialed), where).toBe(CREDENTIALED + 2);
    expect(delta("gatehouse_egress_requests_total", series.blocked), where).toBe(BLOCKED);
    expect(delta("gatehouse_upstream_failures_total", { code: "upstream_unreachable" }), where).toBe(1);
    expect(delta("gatehouse_credential_upstream_denials_total", { bundle, connection: "github", status: "401" }), where).toBe(1);
    expect(delta("gatehouse_credential_upstream_denials_total", { bundle, connection: "github", status: "403" }), where).toBe(1);
    // The latency Gatehouse adds: one observation per request that went upstream.
    expect(delta("gatehouse_proxy_overhead_seconds", {}), where).toBe(ALLOWLISTED + 1 + CREDENTIALED + 2);
    // No host or path ever becomes a label.
    expect(r.text).not.toContain("registry.gh.test");
    expect(r.text).not.toContain("/repos/acme");
  }
});

test("gauges: open sessions, tunnels and the audit pipeline; process metrics from every process", async () => {
  const r = await scrape("proxy");
  expect(value(r.families, "gatehouse_sessions_open")).toBeGreaterThanOrEqual(1);
  expect(value(r.families, "gatehouse_audit_chain_valid")).toBe(1);
  expect(value(r.families, "gatehouse_audit_chain_verified_age_seconds")).toBeLessThan(60);
  expect(r.families.find((f) => f.name === "gatehouse_audit_import_lag_seconds")).toBeTruthy();
  expect(r.families.find((f) => f.name === "gatehouse_audit_journal_backlog_bytes")).toBeTruthy();
  expect(value(r.families, "process_cpu_seconds_total")).toBeGreaterThan(0);
  expect(value(r.families, "gatehouse_open_tunnels", { kind: "blind" })).toBe(0);

  // A blind tunnel (a Domains-only host) counts while it is open.
  const socket = net.connect(gh.proxyPort, "127.0.0.1");
  await new Promise((res) => socket.once("connect", res));
  socket.write(`CONNECT registry.gh.test:${up.httpsPort} HTTP/1.1\r\nProxy-Authorization: Bearer ${token}\r\n\r\n`);
  expect(await new Promise<string>((res) => socket.once("data", (d: Buffer) => res(d.toString("latin1"))))).toMatch(/^HTTP\/1\.1 200/);
  await expect.poll(async () => value((await scrape("dashboard")).families, "gatehouse_open_tunnels", { kind: "blind" })).toBe(1);
  socket.destroy();
  await expect.poll(async () => value((await scrape("dashboard")).families, "gatehouse_open_tunnels", { kind: "blind" })).toBe(0);
});

test("nothing secret crossed, and the metrics token is in no log line", async () => {
  checkLogClean(fs.readFileSync(gh.logFile, "utf8"), [METRICS_TOKEN]);
  await expectNoSecretCrossed();
});
