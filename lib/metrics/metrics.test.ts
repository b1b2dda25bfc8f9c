import http from "node:http";
import { AggregatorRegistry, Registry } from "prom-client";
import parsePrometheusTextFormat from "parse-prometheus-text-format";
import { describe, expect, it } from "vitest";
import { sqliteWriterOf } from "../../db/client";
import { writeTransaction } from "../../db/tx";
import { appendAuditEvents } from "../audit";
import { testContext } from "../services/test-context";
import { Secret } from "../vault/secret";
import { answerMetrics, bearerMatches } from "./endpoint";
import { countEgress, enableMetrics, MAX_LABEL_SETS, registry } from "./index";
import { ChainWatch } from "./primary";

const TOKEN = new Secret("metrics-token-not-real-0123456789");

async function ask(headers: Record<string, string>, path = "/metrics"): Promise<{ status: number; body: string } | null> {
  const server = http.createServer((req, res) => {
    if (!answerMetrics(req, res, TOKEN, async () => "gatehouse_up 1\n")) res.writeHead(404).end("next");
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  try {
    const res = await fetch(`http://127.0.0.1:${(server.address() as { port: number }).port}${path}`, { headers });
    return { status: res.status, body: await res.text() };
  } finally {
    server.close();
  }
}

describe("GET /metrics", () => {
  it("answers only the right bearer token", async () => {
    expect(await ask({})).toMatchObject({ status: 401 });
    expect(await ask({ authorization: "Bearer metrics-token-not-real-012345678" })).toMatchObject({ status: 401 });
    expect(await ask({ authorization: `Basic ${Buffer.from(`x:${TOKEN.reveal()}`).toString("base64")}` })).toMatchObject({ status: 401 });
    expect(await ask({ authorization: `Bearer ${TOKEN.reveal()}` })).toEqual({ status: 200, body: "gatehouse_up 1\n" });
    expect(await ask({ authorization: `Bearer ${TOKEN.reveal()}` }, "/metricsx")).toMatchObject({ status: 404 });
  });
  it("compares tokens of any length without throwing", () => {
    expect(bearerMatches(undefined, TOKEN)).toBe(false);
    expect(bearerMatches("Bearer ", TOKEN)).toBe(false);
    expect(bearerMatches(`Bearer ${"x".repeat(5000)}`, TOKEN)).toBe(false);
    expect(bearerMatches(`bearer ${TOKEN.reveal()}`, TOKEN)).toBe(true);
  });
});

describe("the proxy's counters", () => {
  it("keep label sets bounded, folding the excess into _other", async () => {
    enableMetrics();
    for (let i = 0; i < MAX_LABEL_SETS + 50; i++) countEgress("credentialed", `bundle-${i}`, "github");
    const text = await registry.metrics();
    const series = text.split("\n").filter((l) => l.startsWith("gatehouse_egress_requests_total{"));
    expect(series.length).toBeLessThanOrEqual(MAX_LABEL_SETS + 1);
    expect(text).toContain('gatehouse_egress_requests_total{outcome="credentialed",bundle="_other",connection="_other"} 50');
  });

  it("from several processes add up once merged", async () => {
    const snapshot = async (n: number) => {
      const r = new Registry();
      const { Counter } = await import("prom-client");
      const c = new Counter({ name: "t_requests_total", help: "t", labelNames: ["outcome"], registers: [r] });
      c.labels("allowlisted").inc(n);
      return r.getMetricsAsJSON();
    };
    const merged = await AggregatorRegistry.aggregate([await snapshot(2), await snapshot(3)]).metrics();
    const parsed = parsePrometheusTextFormat(merged) as { name: string; metrics: { value: string; labels: Record<string, string> }[] }[];
    expect(parsed.find((m) => m.name === "t_requests_total")!.metrics).toEqual([{ value: "5", labels: { outcome: "allowlisted" } }]);
  });
});

describe("the chain watch", () => {
  it("reports the time since it last verified to the head, and stays broken once broken", async () => {
    const ctx = await testContext();
    const watch = new ChainWatch(ctx.db, ctx.now);
    ctx.clock.now += 5000;
    expect(await watch.check()).toEqual({ ok: true, ageSeconds: 0 });
    await writeTransaction(ctx.db, () =>
      appendAuditEvents(ctx.db, [
        { kind: "admin", action: "user.added", actor: "a" },
        { kind: "admin", action: "user.added", actor: "b" },
      ]),
    );
    ctx.clock.now += 2000;
    expect(await watch.check()).toEqual({ ok: true, ageSeconds: 0 });
    sqliteWriterOf(ctx.db).exec("DROP TRIGGER audit_events_no_update");
    await writeTransaction(ctx.db, () => appendAuditEvents(ctx.db, [{ kind: "admin", action: "user.added", actor: "c" }]));
    sqliteWriterOf(ctx.db).prepare("UPDATE audit_events SET actor = 'mallory' WHERE seq = 3").run();
    ctx.clock.now += 3000;
    expect(await watch.check()).toEqual({ ok: false, ageSeconds: 3 });
    ctx.clock.now += 1000;
    expect(await watch.check()).toEqual({ ok: false, ageSeconds: 4 });
  });
});
