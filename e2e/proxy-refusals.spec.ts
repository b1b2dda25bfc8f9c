// Every refusal of a request whose session is known is an audit event, whatever the entry shape;
// a blind tunnel that cannot be dialled is answered and recorded as the failure it is.
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { expect, test } from "@playwright/test";
import { state } from "./fixtures/app";
import { freePort } from "./fixtures/ports";
import {
  connectTunnel,
  interceptedTunnel,
  proxySocket,
  readResponse,
  readUntilClose,
  recordedEvents,
  requestIdOf,
  sessionWithBundle,
  type ProxySession,
} from "./fixtures/proxy-client";
import { startUpstreams, type Upstreams } from "./fixtures/upstreams";

let up: Upstreams;
let s: ProxySession;
let deadPort: number;

test.beforeAll(async () => {
  up = await startUpstreams();
  deadPort = await freePort(); // nothing listens there
  s = await sessionWithBundle(
    "T0REFUSALS",
    {
      domains: [`registry.gh.test:${up.httpPort}`, `registry.gh.test:${deadPort}`],
      connections: [
        { name: "api", serviceAccount: "bot@acme.example", inject: { type: "bearer" }, allowedWebsites: [`api.gh.test:${up.httpsPort}`] },
      ],
    },
    { api: "fake-refusals-credential-0000" },
  );
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
const wsHeaders =
  "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n";

const cases: { name: string; send: () => Promise<string>; status: number; rule: string }[] = [
  {
    name: "token in the URL (forward)",
    send: () => forward(`GET http://${reg()}/t?k=${s.token} HTTP/1.1\r\nHost: ${reg()}\r\n${auth()}\r\n`),
    status: 403,
    rule: "transport:token_in_request",
  },
  {
    name: "token in the URL (in a tunnel)",
    send: () => inTunnel(`GET /repos/t?k=${s.token} HTTP/1.1\r\nHost: ${api()}\r\n\r\n`),
    status: 403,
    rule: "transport:token_in_request",
  },
  {
    name: "userinfo in the target",
    send: () => forward(`GET http://user:pw@${reg()}/u HTTP/1.1\r\nHost: ${reg()}\r\n${auth()}\r\n`),
    status: 403,
    rule: "transport:userinfo_not_allowed",
  },
  {
    name: "a target off the tunnel's host (in a tunnel)",
    send: () => inTunnel(`GET https://other.gh.test:${up.httpsPort}/x HTTP/1.1\r\nHost: ${api()}\r\n\r\n`),
    status: 400,
    rule: "transport:bad_target",
  },
  {
    name: "a WebSocket whose Host differs from the tunnel's",
    send: () => inTunnel(`GET /ws HTTP/1.1\r\nHost: evil.gh.test:${up.httpsPort}\r\n${wsHeaders}\r\n`),
    status: 403,
    rule: "transport:host_mismatch",
  },
  {
    name: "Upgrade: h2c",
    send: () =>
      forward(
        `GET http://${reg()}/h2c HTTP/1.1\r\nHost: ${reg()}\r\nUpgrade: h2c\r\nConnection: Upgrade, HTTP2-Settings\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n${auth()}\r\n`,
      ),
    status: 400,
    rule: "transport:bad_request",
  },
  {
    name: "more than 100 headers",
    send: () =>
      forward(
        `GET http://${reg()}/many HTTP/1.1\r\nHost: ${reg()}\r\n${auth()}${Array.from({ length: 120 }, (_, i) => `X-H${i}: 1\r\n`).join("")}\r\n`,
      ),
    status: 431,
    rule: "transport:headers_too_large",
  },
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

/** Runs a client to completion without blocking this process (the upstreams live in it). */
function run(cmd: string, args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { env: { ...process.env, NO_PROXY: "", no_proxy: "", ...env } });
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (out += d.toString()));
    child.on("close", (code) => resolve({ code, out }));
  });
}

test.describe("the reason reaches the agent in what its tools print", () => {
  const REASON = "Blocked by Gatehouse: evil.gh.test is not allowed";
  const proxyUrl = () => `http://session:${s.token}@127.0.0.1:${state.proxyPort}`;
  const blockedHttp = () => `http://evil.gh.test:${up.httpPort}/pkg`;
  const blockedHttps = () => `https://evil.gh.test:${up.httpsPort}/pkg`;

  test("the status line and the body name the refusal and the host", async () => {
    const socket = await proxySocket();
    socket.write(`GET ${blockedHttp()} HTTP/1.1\r\nHost: evil.gh.test\r\n${auth()}\r\n`);
    const text = await readResponse(socket);
    socket.destroy();
    expect(text.split("\r\n")[0]).toBe(`HTTP/1.1 403 ${REASON} (ask an Owner to add it to a bundle)`);
    const body = JSON.parse(text.slice(text.indexOf("\r\n\r\n") + 4));
    expect(body.error).toMatchObject({ code: "host_not_allowed", requestId: requestIdOf(text) });
    expect(body.message).toContain(REASON);
    const { head } = await connectTunnel(s.token, `evil.gh.test:${up.httpsPort}`);
    expect(head.split("\r\n")[0]).toBe(`HTTP/1.1 403 ${REASON} (ask an Owner to add it to a bundle)`);
  });

  test("curl: the body over HTTP, the status line of a refused CONNECT with -v", async () => {
    const plain = await run("curl", ["-sS", "-x", proxyUrl(), blockedHttp()]);
    expect(plain.out).toContain(REASON);
    const tunnel = await run("curl", ["-sS", "-v", "-x", proxyUrl(), blockedHttps()]);
    expect(tunnel.code).not.toBe(0);
    expect(tunnel.out).toContain(`403 ${REASON}`);
  });

  test("Python requests: HTTP errors and a refused tunnel", async () => {
    const script = [
      "import sys, requests",
      "try:",
      "    r = requests.get(sys.argv[1], timeout=10)",
      "    r.raise_for_status()",
      "except Exception as e:",
      "    print(e)",
    ].join("\n");
    const env = { HTTP_PROXY: proxyUrl(), HTTPS_PROXY: proxyUrl() };
    const plain = await run("python3", ["-c", script, blockedHttp()], env);
    expect(plain.out).toContain(`403 Client Error: ${REASON}`);
    const tunnel = await run("python3", ["-c", script, blockedHttps()], env);
    expect(tunnel.out).toContain(`Tunnel connection failed: 403 ${REASON}`);
  });

  test("npm, over HTTP and HTTPS: the status line's reason is in its error (body.error, an object per the contract, still prints as [object Object])", async () => {
    const cache = fs.mkdtempSync(path.join(os.tmpdir(), "gh-npm-cache-"));
    const npm = (registry: string) =>
      run(
        "npm",
        [
          "view",
          "is-number",
          "--registry",
          registry,
          "--proxy",
          proxyUrl(),
          "--https-proxy",
          proxyUrl(),
          "--fetch-retries",
          "0",
          "--cache",
          cache,
          "--no-update-notifier",
        ],
        { npm_config_userconfig: path.join(cache, "npmrc") },
      );
    const plain = await npm(`http://evil.gh.test:${up.httpPort}/`);
    expect(plain.code).not.toBe(0);
    expect(plain.out).toContain(`403 ${REASON}`);
    // npm's agent reports a refused CONNECT as that status: the same line.
    const tunnel = await npm(`https://evil.gh.test:${up.httpsPort}/`);
    expect(tunnel.code).not.toBe(0);
    expect(tunnel.out).toContain(`403 ${REASON}`);
  });

  test("git over HTTPS: libcurl's own message has the status only; its verbose trace has the reason", async () => {
    const env = { HTTPS_PROXY: proxyUrl(), GIT_TERMINAL_PROMPT: "0" };
    const quiet = await run("git", ["ls-remote", `${blockedHttps()}/repo.git`], env);
    expect(quiet.code).not.toBe(0);
    expect(quiet.out).toContain("CONNECT tunnel failed, response 403");
    const verbose = await run("git", ["ls-remote", `${blockedHttps()}/repo.git`], { ...env, GIT_CURL_VERBOSE: "1" });
    expect(verbose.out).toContain(`403 ${REASON}`);
    // git's trace redacts the proxy credentials.
    expect(verbose.out).not.toContain(s.token);
  });
});

test.describe("connections that cannot authenticate are not kept", () => {
  test("after a 407 and after a 400 the proxy closes the connection at once", async () => {
    for (const request of [
      `GET http://${reg()}/no-token HTTP/1.1\r\nHost: ${reg()}\r\n\r\n`,
      `GET https://${reg()}/wrong-scheme HTTP/1.1\r\nHost: ${reg()}\r\n${auth()}\r\n`,
    ]) {
      const socket = await proxySocket();
      socket.write(request);
      // Well under the 5 s keep-alive timeout that would otherwise close it.
      const { text, closed } = await readUntilClose(socket, 2_000);
      socket.destroy();
      expect(text).toMatch(/^HTTP\/1\.1 40[07] /);
      expect(text).toMatch(/\r\nConnection: close\r\n/i);
      expect(closed).toBe(true);
    }
  });

  test("a peer's connections without a valid session are capped (unauthenticated-per-peer=100 per worker here); authenticated ones are not", async () => {
    const LIMIT = 100;
    const WORKERS = 2; // GATEHOUSE_PROXY_WORKERS in e2e/global-setup.ts
    // Authenticated connections, held open, do not count.
    // (One after the other: each counts until its request is admitted.)
    const authenticated: { socket: import("node:net").Socket; answer: string }[] = [];
    for (let i = 0; i < LIMIT * WORKERS + 4; i++) {
      const socket = await proxySocket();
      socket.write(`GET http://${reg()}/cap/authenticated HTTP/1.1\r\nHost: ${reg()}\r\n${auth()}\r\n`);
      authenticated.push({ socket, answer: await readResponse(socket) });
    }
    expect(authenticated.filter((c) => /^HTTP\/1\.1 200 /.test(c.answer))).toHaveLength(LIMIT * WORKERS + 4);
    // Idle connections that never say who they are: past the cap, each is answered 429 and closed.
    const idle = await Promise.all(Array.from({ length: LIMIT * WORKERS + 10 }, () => proxySocket()));
    const outcomes = await Promise.all(idle.map((socket) => readUntilClose(socket, 1_000)));
    const refused = outcomes.filter((o) => o.closed && /^HTTP\/1\.1 429 /.test(o.text) && o.text.includes("too_many_connections"));
    expect(refused.length).toBeGreaterThanOrEqual(10);
    expect(outcomes.filter((o) => !o.closed).length).toBeLessThanOrEqual(LIMIT * WORKERS);
    for (const socket of idle) socket.destroy();
    for (const { socket } of authenticated) socket.destroy();
    // Once they are gone, the peer connects again.
    await expect
      .poll(
        async () => {
          const socket = await proxySocket();
          socket.write(`GET http://${reg()}/cap/after HTTP/1.1\r\nHost: ${reg()}\r\n${auth()}\r\n`);
          const answer = await readResponse(socket);
          socket.destroy();
          return answer.slice(0, 12);
        },
        { timeout: 5_000 },
      )
      .toBe("HTTP/1.1 200");
  });
});
