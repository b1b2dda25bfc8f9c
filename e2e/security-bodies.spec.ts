// Request bodies and policy documents (#13 items 3 and 4): counted while they stream, refused at
// the limit, authorised before they are read, and parsed in bounded time.
import http from "node:http";
import { expect, test } from "@playwright/test";
import { createApiKey, state } from "./fixtures/app";
import { serverRss } from "./fixtures/dashboard-http";

const base = new URL(state.baseURL);

/** Streams up to `total` bytes chunked until the server answers; what was sent by then, and the answer. */
function streamUntilAnswered(
  path: string,
  headers: Record<string, string>,
  total: number,
): Promise<{ status: number; sentBeforeAnswer: number; body: string }> {
  return new Promise((resolve, reject) => {
    let sent = 0;
    let answered = false;
    const chunk = Buffer.alloc(64 * 1024, "a");
    const req = http.request({
      host: base.hostname,
      port: Number(base.port),
      method: path.startsWith("PUT ") ? "PUT" : "POST",
      path: path.replace(/^\w+ /, ""),
      headers: { "transfer-encoding": "chunked", ...headers },
      agent: false,
    });
    req.on("response", (res) => {
      answered = true;
      const at = sent;
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode!, sentBeforeAnswer: at, body: Buffer.concat(chunks).toString() }));
      res.on("error", () => resolve({ status: res.statusCode!, sentBeforeAnswer: at, body: Buffer.concat(chunks).toString() }));
    });
    req.on("error", (err) => {
      if (!answered) reject(err);
    });
    const pump = () => {
      while (!answered && sent < total && !req.destroyed) {
        sent += chunk.length;
        if (!req.write(chunk)) return void req.once("drain", pump);
      }
      if (!answered && sent >= total) req.end();
    };
    pump();
  });
}

test("a 400 MB chunked body is refused at the limit on every body-reading route, with server memory bounded", async () => {
  test.setTimeout(180_000);
  const ownerKey = createApiKey("owner");
  const rssBefore = serverRss();
  const routes: [string, Record<string, string>][] = [
    ["PUT /api/v1/policy", { authorization: `Bearer ${ownerKey}`, "content-type": "application/json" }],
    ["POST /api/v1/sessions", { authorization: `Bearer ${createApiKey("orchestrator")}`, "content-type": "application/json" }],
    ["POST /api/auth/callback/credentials", { "content-type": "application/x-www-form-urlencoded" }],
    ["POST /settings", { "next-action": "0".repeat(42), "content-type": "text/plain;charset=UTF-8" }],
  ];
  let peak = rssBefore;
  for (const [route, headers] of routes) {
    const r = await streamUntilAnswered(route, headers, 400 * 1024 * 1024);
    peak = Math.max(peak, serverRss());
    expect(r.status, route).toBe(413);
    // Refused after the limit (1 MiB, or 64 KiB for /api/auth), long before the 400 MB.
    expect(r.sentBeforeAnswer, route).toBeLessThan(32 * 1024 * 1024);
    if (route.includes("/api/")) expect(JSON.parse(r.body).error.code, route).toBe("payload_too_large");
  }
  expect(peak - rssBefore).toBeLessThan(150 * 1024 * 1024);
  // The server still answers.
  expect((await fetch(`${state.baseURL}/api/v1/ca.pem`)).status).toBe(200);
});

test("PUT /api/v1/policy checks the role before reading the body", async () => {
  for (const role of ["auditor", "orchestrator"] as const) {
    const r = await streamUntilAnswered(
      "PUT /api/v1/policy",
      { authorization: `Bearer ${createApiKey(role)}`, "content-type": "application/yaml" },
      400 * 1024 * 1024,
    );
    expect(r.status, role).toBe(403);
    expect(r.sentBeforeAnswer, role).toBeLessThan(8 * 1024 * 1024);
  }
});

test("a 30,000-key YAML is answered in under a second while ca.pem is served at once", async () => {
  const ownerKey = createApiKey("owner");
  const yaml = "version: 1\n" + Array.from({ length: 30_000 }, (_, i) => `k${i}: ${i}`).join("\n");
  const duplicate = "version: 1\n" + Array.from({ length: 3_000 }, (_, i) => `k${i % 1000}: ${i}`).join("\n");
  const big = JSON.stringify({ version: 1, x: Array.from({ length: 60_000 }, (_, i) => ({ [`k${i}`]: i })) });
  // [name, body, type, key, answer within, ca.pem within]: the report's 30,000 keys are refused
  // before parsing; the others are parsed whole (~0.1-0.4 s here), so they get load headroom.
  for (const [name, body, type, key, answerMs, caMsMax] of [
    ["30,000 keys, owner", yaml, "application/yaml", ownerKey, 1000, 500],
    ["30,000 keys, orchestrator", yaml, "application/yaml", createApiKey("orchestrator"), 1000, 500],
    ["duplicate keys", duplicate, "application/yaml", ownerKey, 2000, 1000],
    ["1 MB of JSON", big, "application/json", ownerKey, 2000, 1000],
  ] as const) {
    const started = performance.now();
    const put = fetch(`${state.baseURL}/api/v1/policy?dryRun=1`, {
      method: "PUT",
      headers: { authorization: `Bearer ${key}`, "content-type": type },
      body,
    });
    // ca.pem asked while the policy is being read.
    const caStarted = performance.now();
    const ca = await fetch(`${state.baseURL}/api/v1/ca.pem`);
    const caMs = performance.now() - caStarted;
    const res = await put;
    const ms = performance.now() - started;
    expect(ca.status).toBe(200);
    expect([400, 403, 413], name).toContain(res.status);
    expect(ms, name).toBeLessThan(answerMs);
    expect(caMs, name).toBeLessThan(caMsMax);
  }
});
