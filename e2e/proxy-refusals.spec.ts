// Every refusal of a request whose session is known is an audit event, whatever the entry shape;
// a blind tunnel that cannot be dialled is answered and recorded as the failure it is.
import { expect, test } from "@playwright/test";
import { freePort } from "./fixtures/ports";
import { connectTunnel, interceptedTunnel, proxySocket, readResponse, recordedEvents, requestIdOf, sessionWithBundle, type ProxySession } from "./fixtures/proxy-client";
import { startUpstreams, type Upstreams } from "./fixtures/upstreams";

let up: Upstreams;
let s: ProxySession;
let deadPort: number;

test.beforeAll(async () => {
  up = await startUpstreams();
  deadPort = await freePort(); // nothing listens there
  s = await sessionWithBundle("T0REFUSALS", {
    domains: [`registry.gh.test:${up.httpPort}`, `registry.gh.test:${deadPort}`],
    connections: [{ name: "api", serviceAccount: "bot@acme.example", inject: { type: "bearer" }, allowedWebsites: [`api.gh.test:${up.httpsPort}`] }],
  }, { api: "fake-refusals-credential-0000" });
});

test.afterAll(async () => {
  await up.close();
});

/** Writes `text` on a fresh proxy connection and returns what came back. */
async function forward(text: string): Promise<string> {
  const socket = await proxySocket();
  socket.write(text);
  return readResponse(socket);
}

/** Writes `text` inside an intercepted tunnel to api.gh.test and returns what came back. */
async function inTunnel(text: string): Promise<string> {
  const secure = await interceptedTunnel(s.token, "api.gh.test", up.httpsPort, s.gatehouseCa);
  secure.write(text);
  return readResponse(secure);
}

const auth = () => `Proxy-Authorization: Bearer ${s.token}\r\n`;
const reg = () => `registry.gh.test:${up.httpPort}`;
const api = () => `api.gh.test:${up.httpsPort}`;
const wsHeaders = "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n";

const cases: { name: string; send: () => Promise<string>; status: number; rule: string }[] = [
  { name: "token in the URL (forward)", send: () => forward(`GET http://${reg()}/t?k=${s.token} HTTP/1.1\r\nHost: ${reg()}\r\n${auth()}\r\n`), status: 403, rule: "transport:token_in_request" },
  { name: "token in the URL (in a tunnel)", send: () => inTunnel(`GET /repos/t?k=${s.token} HTTP/1.1\r\nHost: ${api()}\r\n\r\n`), status: 403, rule: "transport:token_in_request" },
  { name: "userinfo in the target", send: () => forward(`GET http://user:pw@${reg()}/u HTTP/1.1\r\nHost: ${reg()}\r\n${auth()}\r\n`), status: 403, rule: "transport:userinfo_not_allowed" },
  { name: "a target off the tunnel's host (in a tunnel)", send: () => inTunnel(`GET https://other.gh.test:${up.httpsPort}/x HTTP/1.1\r\nHost: ${api()}\r\n\r\n`), status: 400, rule: "transport:bad_target" },
  { name: "a WebSocket whose Host differs from the tunnel's", send: () => inTunnel(`GET /ws HTTP/1.1\r\nHost: evil.gh.test:${up.httpsPort}\r\n${wsHeaders}\r\n`), status: 403, rule: "transport:host_mismatch" },
  { name: "Upgrade: h2c", send: () => forward(`GET http://${reg()}/h2c HTTP/1.1\r\nHost: ${reg()}\r\nUpgrade: h2c\r\nConnection: Upgrade, HTTP2-Settings\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n${auth()}\r\n`), status: 400, rule: "transport:bad_request" },
  { name: "more than 100 headers", send: () => forward(`GET http://${reg()}/many HTTP/1.1\r\nHost: ${reg()}\r\n${auth()}${Array.from({ length: 120 }, (_, i) => `X-H${i}: 1\r\n`).join("")}\r\n`), status: 431, rule: "transport:headers_too_large" },
];

for (const c of cases) {
  test(`refused and recorded: ${c.name}`, async () => {
    const answer = await c.send();
    expect(answer).toMatch(new RegExp(`^HTTP/1\\.1 ${c.status} `));
    const requestId = requestIdOf(answer)!;
    expect(requestId).toBeTruthy();
    const [event] = await recordedEvents(requestId);
    expect(event).toMatchObject({ outcome: "blocked", rule: c.rule, status: c.status, sessionId: s.sessionId });
    // The session token is never written into the log, not even when the request carried it.
    expect(JSON.stringify(event)).not.toContain(s.token);
  });
}

test("a blind tunnel to an allowed port with nothing listening: 502 before any 200, recorded as that failure", async () => {
  const { socket, head } = await connectTunnel(s.token, `registry.gh.test:${deadPort}`);
  socket.destroy();
  expect(head).toMatch(/^HTTP\/1\.1 502 /);
  expect(head).toContain("upstream_unreachable");
  const requestId = requestIdOf(head)!;
  const events = await recordedEvents(requestId);
  expect(events).toHaveLength(1);
  expect(events[0]).toMatchObject({ status: 502, reason: expect.stringContaining("could not be reached") });
  expect(events[0]!.bytesOut ?? 0).toBe(0);
});
