// Every threshold of the proxy, on a Gatehouse of this suite's own whose thresholds are injected
// (GATEHOUSE_PROXY_TIMEOUTS, GATEHOUSE_SESSION_TOUCH_INTERVAL) so the tests wait seconds, not minutes.
import { spawn } from "node:child_process";
import net from "node:net";
import tls from "node:tls";
import { expect, test } from "@playwright/test";
import {
  auditEventsFor,
  bundle,
  curl,
  elapsedSince,
  expectNoSecretCrossed,
  gatehouseCa,
  gh,
  httpsUrl,
  httpUrl,
  orchKey,
  ownerKey,
  proxySuite,
  raw,
  readDb,
  receivedAt,
  requestSession,
  sandboxSaw,
  token,
  up,
  updatePolicy,
  webSocketThroughTunnel,
  WS,
} from "./fixtures/proxy-suite";

const CLIENT_HELLO_MS = 3_000;
const TUNNEL_IDLE_MS = 3_000;
// The same as the shared e2e server (connect, request-headers, response-headers and idle at 3 s,
// request at 6 s), with client-hello (10 s by default) and tunnel-idle (6 s there) shorter, and a
// session touch written on every request (5 s apart by default).
proxySuite({
  env: {
    GATEHOUSE_PROXY_TIMEOUTS: `connect=3s,request-headers=3s,request=6s,response-headers=3s,idle=3s,client-hello=${CLIENT_HELLO_MS}ms,tunnel-idle=${TUNNEL_IDLE_MS}ms`,
    GATEHOUSE_SESSION_TOUCH_INTERVAL: "0ms",
  },
});

test("traffic on a session moves its last_seen_at forward, through the journal", async () => {
  const s = await requestSession(orchKey, { workspace: WS, channel: "C0SEEN" });
  const lastSeen = () => readDb((db) => db.prepare("SELECT last_seen_at FROM sessions WHERE id = ?").pluck().get(s.json.id) as number);
  const granted = lastSeen();
  // A new session was seen when it was granted; this Gatehouse writes a touch on every request
  // (GATEHOUSE_SESSION_TOUCH_INTERVAL=0ms), so the first request after the grant moves it.
  await expect.poll(() => Date.now()).toBeGreaterThan(granted);
  const before = Date.now();
  expect((await curl([httpUrl("registry.gh.test", "/seen")], { token: s.json.token })).status).toBe(200);
  await expect.poll(lastSeen, { timeout: 5000 }).toBeGreaterThanOrEqual(before);
  expect(granted).toBeLessThan(before);
});

test("a sandbox that sends its headers or its body too slowly gets 408 with a reason; the process keeps serving", async () => {
  const auth = `Proxy-Authorization: Bearer ${token}\r\n`;
  let started = Date.now();
  const slowHeaders = await raw(
    `GET http://registry.gh.test:${up.httpPort}/slow-headers HTTP/1.1\r\nHost: registry.gh.test\r\n${auth}X-Still-Typing: `,
    15_000,
  );
  expect(slowHeaders).toMatch(/^HTTP\/1\.1 408/);
  expect(JSON.parse(slowHeaders.slice(slowHeaders.indexOf("\r\n\r\n") + 4)).error).toMatchObject({
    code: "request_timeout",
    message: expect.stringContaining("headers within 3 s"),
  });
  expect(elapsedSince(started)).toBeGreaterThanOrEqual(2_900);
  expect(elapsedSince(started)).toBeLessThan(10_000);

  // Headers complete, then a body that stops short: the whole-request timeout ends it, and
  // the upstream's half-received request is abandoned.
  started = Date.now();
  const slowBody = await raw(
    `POST http://registry.gh.test:${up.httpPort}/slow-body HTTP/1.1\r\nHost: registry.gh.test\r\n${auth}Content-Length: 100\r\n\r\nonly ten b`,
    20_000,
  );
  expect(slowBody).toMatch(/^HTTP\/1\.1 408/);
  expect(elapsedSince(started)).toBeGreaterThanOrEqual(5_900);
  expect(elapsedSince(started)).toBeLessThan(15_000);
  expect(receivedAt("/slow-headers")).toHaveLength(0);
  expect(receivedAt("/slow-body")).toHaveLength(0); // the echo server answers only a complete body
  expect((await curl([httpUrl("registry.gh.test", "/after-slow-clients")])).status).toBe(200);
});

test("a connection that stays silent before its first request is closed after the request-header timeout, intercepted tunnels too", async () => {
  // Each clock starts when its socket falls silent: the others take a while to open under load.
  const closedAfter = (socket: net.Socket) => {
    const t0 = Date.now();
    return new Promise<number>((resolve) => socket.once("close", () => resolve(Date.now() - t0)));
  };
  const connectTo = async (host: string) => {
    const socket = net.connect(gh.proxyPort, "127.0.0.1");
    await new Promise((r) => socket.once("connect", r));
    socket.write(`CONNECT ${host}:${up.httpsPort} HTTP/1.1\r\nProxy-Authorization: Bearer ${token}\r\n\r\n`);
    const head = await new Promise<string>((r) => socket.once("data", (d: Buffer) => r(d.toString())));
    sandboxSaw(head);
    expect(head).toMatch(/^HTTP\/1\.1 200/);
    return socket;
  };
  const silent = net.connect(gh.proxyPort, "127.0.0.1");
  const silentClosed = new Promise<number>((r) => silent.once("connect", () => void closedAfter(silent).then(r)));
  const noHandshake = await connectTo("api.gh.test");
  const noHandshakeClosed = closedAfter(noHandshake);
  const noRequest = tls.connect({ socket: await connectTo("api.gh.test"), servername: "api.gh.test", ca: gatehouseCa });
  await new Promise((r) => noRequest.once("secureConnect", r));
  const noRequestClosed = closedAfter(noRequest);
  for (const ms of await Promise.all([silentClosed, noHandshakeClosed, noRequestClosed])) {
    expect(ms).toBeGreaterThanOrEqual(2_000);
    expect(ms).toBeLessThan(8_000);
  }
});

test("an upstream that never answers: 504 upstream_timeout after the response-header timeout, over HTTP and through interception", async () => {
  for (const url of [httpUrl("registry.gh.test", "/stall-headers/plain"), httpsUrl("api.gh.test", "/repos/acme/stall-headers")]) {
    const started = Date.now();
    const r = await curl([url]);
    expect(r.status, url).toBe(504);
    expect(JSON.parse(r.body).error.code).toBe("upstream_timeout");
    expect(r.headers["x-gatehouse-outcome"]).toBe(url.startsWith("https") ? "credentialed" : "allowlisted");
    expect(elapsedSince(started)).toBeGreaterThanOrEqual(2_900);
    expect(elapsedSince(started)).toBeLessThan(12_000);
    const requestId = r.headers["x-gatehouse-request-id"]!;
    await expect.poll(async () => (await auditEventsFor(requestId)).map((e) => e.status)).toContain(504);
    expect((await auditEventsFor(requestId))[0]).toMatchObject({
      path: url.startsWith("https") ? "/repos/acme/stall-headers" : "/stall-headers/plain",
    });
  }
});

test("an upstream that stops in the middle of its body is cut off after the idle timeout, and the cut is recorded", async () => {
  const started = Date.now();
  const r = await curl([httpUrl("registry.gh.test", "/stall-body")]);
  expect(r.status).toBe(200); // the headers had gone out
  expect(r.body).toBe("the first part of a body that never ends");
  expect(r.code).not.toBe(0); // curl reports the transfer cut short
  expect(elapsedSince(started)).toBeGreaterThanOrEqual(2_900);
  expect(elapsedSince(started)).toBeLessThan(12_000);
  await expect
    .poll(async () => (await auditEventsFor(r.headers["x-gatehouse-request-id"]!)).map((e) => e.reason).join(" "))
    .toContain("did not answer in time");
});

test("an upstream that never accepts the connection: 504 after the connect timeout", async () => {
  // A listener whose accept queue is full: the kernel drops further SYNs, so connects hang.
  const blackhole = spawn("python3", [
    "-c",
    [
      "import socket, time",
      "s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen(0); port = s.getsockname()[1]",
      "held = []",
      "while True:",
      "    c = socket.socket(); c.settimeout(0.5)",
      "    try: c.connect(('127.0.0.1', port)); held.append(c)",
      "    except OSError: break",
      "print(port, flush=True); time.sleep(60)",
    ].join("\n"),
  ]);
  try {
    const port = await new Promise<number>((resolve) => blackhole.stdout.once("data", (d: Buffer) => resolve(Number(d.toString().trim()))));
    await updatePolicy(ownerKey, (doc) => {
      doc.bundles.find((b: { name: string }) => b.name === bundle).domains.push(`registry.gh.test:${port}`);
    });
    const started = Date.now();
    const r = await curl([`http://registry.gh.test:${port}/never-accepted`]);
    expect(r.status).toBe(504);
    expect(JSON.parse(r.body).error.code).toBe("upstream_timeout");
    expect(elapsedSince(started)).toBeGreaterThanOrEqual(2_900);
    expect(elapsedSince(started)).toBeLessThan(9_000); // the default, 10 s, would not do
  } finally {
    blackhole.kill();
  }
});

test("a blind tunnel whose client never sends a ClientHello is closed after the timeout, and recorded", async () => {
  const socket = net.connect(gh.proxyPort, "127.0.0.1");
  await new Promise((res) => socket.once("connect", res));
  const started = Date.now();
  socket.write(`CONNECT registry.gh.test:${up.httpsPort} HTTP/1.1\r\nProxy-Authorization: Bearer ${token}\r\n\r\n`);
  const head = await new Promise<string>((res) => socket.once("data", (d: Buffer) => res(d.toString())));
  sandboxSaw(head);
  expect(head).toMatch(/^HTTP\/1\.1 200/);
  const requestId = /X-Gatehouse-Request-Id: (\S+)/.exec(head)![1]!;
  await new Promise((res) => socket.once("close", res));
  const waited = Date.now() - started;
  expect(waited).toBeGreaterThanOrEqual(CLIENT_HELLO_MS - 100); // 10 s by default; injected here
  expect(waited).toBeLessThan(CLIENT_HELLO_MS + 10_000);
  const [ev] = await auditEventsFor(requestId);
  expect(ev).toMatchObject({
    outcome: "blocked",
    rule: "transport:request_timeout",
    status: 408,
    reason: expect.stringContaining("timed out waiting for the ClientHello"),
  });
});

test("a blind tunnel and a WebSocket stay open while bytes move, and are closed after tunnel-idle of silence, recorded", async () => {
  // tunnel-idle is injected (TUNNEL_IDLE_MS) on this suite's Gatehouse.
  const blind = await webSocketThroughTunnel("registry.gh.test", gh.upstreamCaPem, "/idle/blind-ws");
  const intercepted = await webSocketThroughTunnel("api.gh.test", gatehouseCa, "/repos/acme/idle-ws");
  expect(blind.tunnelId).toBeTruthy();
  expect(intercepted.upgradeId).toBeTruthy();
  let lastTraffic = 0;
  // A message every sixth of tunnel-idle, for longer than tunnel-idle: never silent for that long.
  for (let i = 0; i < 8; i++) {
    expect(await blind.echo(`b${i}`)).toBe(`echo:b${i} auth:none`);
    expect(await intercepted.echo(`i${i}`)).toBe(`echo:i${i} auth:none`);
    lastTraffic = Date.now();
    await new Promise((r) => setTimeout(r, TUNNEL_IDLE_MS / 6));
  }
  const [blindClosed, interceptedClosed] = await Promise.all([blind.closed, intercepted.closed]);
  for (const at of [blindClosed, interceptedClosed]) {
    expect(at - lastTraffic).toBeGreaterThanOrEqual(TUNNEL_IDLE_MS - 500);
    expect(at - lastTraffic).toBeLessThan(TUNNEL_IDLE_MS + 6_000);
  }
  for (const id of [blind.tunnelId!, intercepted.upgradeId!]) {
    const events = await auditEventsFor(id);
    expect(events.map((e) => e.reason)).toContainEqual(`closed after ${TUNNEL_IDLE_MS / 1000} s without traffic in either direction`);
    expect(events.some((e) => e.bytesIn > 0 && e.bytesOut > 0)).toBe(true);
  }
});

test("the upstream never saw a token, and the sandbox never saw a secret", async () => {
  await expectNoSecretCrossed();
});
