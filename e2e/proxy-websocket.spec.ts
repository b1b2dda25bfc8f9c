// WebSocket upgrades through the real proxy against upstreams that do not switch protocols, or
// switch wrongly: the answer is relayed as a response and the connection ends; only a valid 101
// becomes a pipe, and no head reaches the sandbox unfiltered.
import { expect, test } from "@playwright/test";
import {
  firstData,
  interceptedTunnel,
  proxySocket,
  readUntilClose,
  recordedEvents,
  requestIdOf,
  sessionWithBundle,
  type ProxySession,
} from "./fixtures/proxy-client";
import { startRawUpstream, type RawUpstream } from "./fixtures/raw-upstream";

let raw: RawUpstream;
let s: ProxySession;
const KEY = "dGhlIHNhbXBsZSBub25jZQ==";

const upgrade = (target: string, host: string, auth: string) =>
  `GET ${target} HTTP/1.1\r\nHost: ${host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${KEY}\r\nSec-WebSocket-Version: 13\r\n${auth}\r\n`;

test.beforeAll(async () => {
  raw = await startRawUpstream();
  s = await sessionWithBundle(
    "T0WEBSOCKET",
    {
      domains: [`ws.gh.test:${raw.port}`],
      connections: [
        { name: "ws", serviceAccount: "bot@acme.example", inject: { type: "bearer" }, allowedWebsites: [`ws.gh.test:${raw.tlsPort}`] },
      ],
    },
    { ws: "fake-ws-credential-0000" },
  );
});

test.afterAll(async () => {
  await raw.close();
});

for (const [path, status, body] of [
  ["/ws/200", 200, "not upgraded."],
  ["/ws/404", 404, "no socket"],
] as const) {
  test(`an upstream answering ${status} to an upgrade: relayed as a response with a filtered head and closed; what follows on the socket never reaches it`, async () => {
    const socket = await proxySocket();
    // The smuggled request rides in the same packet as the upgrade (Node hands it over as `head`).
    socket.write(
      upgrade(`http://ws.gh.test:${raw.port}${path}`, "ws.gh.test", `Proxy-Authorization: Bearer ${s.token}\r\n`) +
        "DELETE /admin/everything HTTP/1.1\r\nHost: evil.gh.test\r\n\r\n",
    );
    const reading = readUntilClose(socket, 8_000);
    await new Promise((r) => setTimeout(r, 300));
    // And one more after the answer, as a client reusing its proxy connection would.
    if (!socket.destroyed)
      socket.write(`GET http://169.254.169.254/latest HTTP/1.1\r\nHost: 169.254.169.254\r\nProxy-Authorization: Bearer ${s.token}\r\n\r\n`);
    const { text, closed } = await reading;
    expect(closed).toBe(true);
    expect(text).toMatch(new RegExp(`^HTTP/1\\.1 ${status} `));
    const [head, rest] = [text.slice(0, text.indexOf("\r\n\r\n")), text.slice(text.indexOf("\r\n\r\n") + 4)];
    expect(rest).toBe(body);
    expect(head).toMatch(/\r\nx-gatehouse-outcome: allowlisted\r\n/i);
    expect(head).not.toContain("credentialed");
    expect(head).not.toContain("req_forged");
    expect(head).not.toMatch(/keep-alive:/i);
    expect(head).toMatch(/\r\nconnection: close(\r\n|$)/i);
    expect(raw.requestLines).toContain(`GET ${path} HTTP/1.1`);
    expect(raw.requestLines.filter((l) => /DELETE|169\.254/.test(l))).toEqual([]);
    const requestId = requestIdOf(head)!;
    // The completion may reach the chain a moment after the request.
    await expect.poll(async () => (await recordedEvents(requestId)).at(-1)?.status, { timeout: 10_000 }).toBe(status);
    expect((await recordedEvents(requestId)).at(-1)).toMatchObject({ reason: expect.stringContaining("instead of switching protocols") });
  });
}

test("inside an intercepted tunnel: a 404 to the upgrade ends the tunnel; a request for another host written after it never arrives", async () => {
  const secure = await interceptedTunnel(s.token, "ws.gh.test", raw.tlsPort, s.gatehouseCa);
  secure.write(upgrade("/ws/404", `ws.gh.test:${raw.tlsPort}`, ""));
  const reading = readUntilClose(secure, 8_000);
  await new Promise((r) => setTimeout(r, 300));
  if (!secure.destroyed) secure.write("POST /repos/other/merge HTTP/1.1\r\nHost: other.gh.test\r\nContent-Length: 0\r\n\r\n");
  const { text, closed } = await reading;
  expect(closed).toBe(true);
  expect(text).toMatch(/^HTTP\/1\.1 404 /);
  expect(text).not.toContain("credentialed");
  expect(raw.requestLines).toContain("GET /ws/404 HTTP/1.1");
  expect(raw.requestLines.filter((l) => l.startsWith("POST"))).toEqual([]);
});

test("a valid 101 is relayed with a filtered head: no forged outcome, no hop-by-hop fields", async () => {
  const socket = await proxySocket();
  socket.write(upgrade(`http://ws.gh.test:${raw.port}/ws/switch`, "ws.gh.test", `Proxy-Authorization: Bearer ${s.token}\r\n`));
  const head = await firstData(socket);
  socket.destroy();
  expect(head).toMatch(/^HTTP\/1\.1 101 /);
  expect(head).toMatch(/\r\nupgrade: websocket\r\n/i);
  expect(head).toMatch(/\r\nsec-websocket-accept: s3pPLMBiTxaQ9kYGzzhZRbK\+xOo=\r\n/i);
  expect(head).toMatch(/\r\nx-gatehouse-outcome: allowlisted\r\n/i);
  expect(head).not.toContain("credentialed");
  expect(head).not.toContain("req_forged");
  expect(head).not.toMatch(/keep-alive:/i);
});

for (const path of ["/ws/wrong-accept", "/ws/not-websocket"]) {
  test(`a 101 that is not a WebSocket handshake for this key (${path}) is refused with 502, and nothing is piped`, async () => {
    const socket = await proxySocket();
    socket.write(
      upgrade(`http://ws.gh.test:${raw.port}${path}`, "ws.gh.test", `Proxy-Authorization: Bearer ${s.token}\r\n`) +
        "DELETE /after-bad-101 HTTP/1.1\r\nHost: ws.gh.test\r\n\r\n",
    );
    const { text, closed } = await readUntilClose(socket, 8_000);
    expect(closed).toBe(true);
    expect(text).toMatch(/^HTTP\/1\.1 502 /);
    expect(text).toContain("upstream_invalid_response");
    expect(raw.requestLines.filter((l) => l.includes("after-bad-101"))).toEqual([]);
  });
}

test("an upstream trickling its answer to an upgrade gets an absolute deadline (response-headers, 3 s here): 504", async () => {
  const socket = await proxySocket();
  const started = Date.now();
  socket.write(upgrade(`http://ws.gh.test:${raw.port}/ws/trickle`, "ws.gh.test", `Proxy-Authorization: Bearer ${s.token}\r\n`));
  const { text, closed } = await readUntilClose(socket, 15_000);
  const waited = Date.now() - started;
  expect(closed).toBe(true);
  expect(text).toMatch(/^HTTP\/1\.1 504 /);
  expect(text).toContain("upstream_timeout");
  expect(waited).toBeGreaterThanOrEqual(2_500);
  expect(waited).toBeLessThan(10_000);
});

test("an upgrade whose URL carries the session token is refused with 403 token_in_request, audited, and never reaches the upstream", async () => {
  const before = raw.requestLines.length;
  const socket = await proxySocket();
  socket.write(
    upgrade(
      `http://ws.gh.test:${raw.port}/ws/switch?t=${encodeURIComponent(s.token)}`,
      "ws.gh.test",
      `Proxy-Authorization: Bearer ${s.token}\r\n`,
    ),
  );
  const { text, closed } = await readUntilClose(socket, 8_000);
  expect(closed).toBe(true);
  expect(text).toMatch(/^HTTP\/1\.1 403 /);
  expect(text).toContain("token_in_request");
  expect(raw.requestLines.slice(before)).toEqual([]);
  const requestId = requestIdOf(text.slice(0, text.indexOf("\r\n\r\n")))!;
  await expect.poll(async () => (await recordedEvents(requestId)).at(-1)?.outcome, { timeout: 10_000 }).toBe("blocked");
});
