// A time-bound grant expires by itself, against the real process with an INJECTED clock
// (GATEHOUSE_TEST_POLICY_CLOCK: a file holding an offset every Gatehouse process adds to the
// clock grants expire by). Moving it past the grant's end closes the tunnel, the WebSocket and
// the kept-alive connection that depended on the grant; the next request is blocked and names
// the host to ask for; the expiry is audited once. No sleeping on internal constants: the test
// moves the clock and waits for what must follow.
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import tls from "node:tls";
import { expect, test } from "@playwright/test";
import { api, bundle, gh, orchKey, ownerKey, proxySuite, requestSession, sandboxSaw, up, updatePolicy } from "./fixtures/proxy-suite";

const clockFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "gh-clock-")), "offset-ms");
fs.writeFileSync(clockFile, "0");

// Kept-alive connections are held across several steps: a long keep-alive so that a slow
// machine does not close them by idleness before the grant does.
proxySuite({ env: { GATEHOUSE_TEST_POLICY_CLOCK: clockFile, GATEHOUSE_PROXY_TIMEOUTS: "keep-alive=10m" } });

const HOUR = 3600_000;

/** The next chunk `socket` receives; fails, rather than waits forever, if it closes first. */
function nextData(socket: net.Socket | tls.TLSSocket, what: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const onClose = () => reject(new Error(`${what}: the connection closed before an answer`));
    socket.once("close", onClose);
    socket.once("data", (d: Buffer) => {
      socket.off("close", onClose);
      resolve(d.toString());
    });
  });
}

/** Opens a connection to the proxy, sends `request`, and resolves once the head of the answer arrived. */
async function opened(request: string, answered: RegExp): Promise<{ socket: net.Socket; head: string }> {
  const socket = net.connect(gh.proxyPort, "127.0.0.1");
  socket.on("error", () => undefined);
  await new Promise((r) => socket.once("connect", r));
  socket.write(request);
  const head = await nextData(socket, request.slice(0, request.indexOf(" HTTP/1.1")));
  sandboxSaw(head);
  expect(head).toMatch(answered);
  return { socket, head };
}

function whenClosed(socket: net.Socket | tls.TLSSocket): Promise<true> {
  return new Promise((resolve) => (socket.destroyed ? resolve(true) : socket.once("close", () => resolve(true))));
}

test("a grant ends by the injected clock: what depended on it closes, the next request is blocked, the expiry is audited once", async () => {
  const grants = `${bundle}-exp`;
  const expiresAt = new Date(Date.now() + HOUR).toISOString();
  await updatePolicy(ownerKey, (doc) =>
    doc.bundles.push({
      name: grants,
      scope: { type: "channels", workspace: "T0EXP", channels: ["C0EXP"] },
      domains: [
        { pattern: `registry.gh.test:${up.httpsPort}`, expiresAt },
        { pattern: `registry.gh.test:${up.httpPort}`, expiresAt },
        `echo.gh.test:${up.httpPort}`,
      ],
    }),
  );
  const s = await requestSession(orchKey, { workspace: "T0EXP", channel: "C0EXP" });
  expect(s.status).toBe(201);
  const auth = `Proxy-Authorization: Bearer ${s.json.token}\r\n`;

  // A blind tunnel to the granted host, used once and held open.
  const tunnel = await opened(`CONNECT registry.gh.test:${up.httpsPort} HTTP/1.1\r\n${auth}\r\n`, /^HTTP\/1\.1 200/);
  const secure = tls.connect({ socket: tunnel.socket, servername: "registry.gh.test", ca: gh.upstreamCaPem });
  secure.on("error", () => undefined);
  await new Promise((r) => secure.once("secureConnect", r));
  secure.write("GET /exp/in-tunnel HTTP/1.1\r\nHost: registry.gh.test\r\n\r\n");
  expect(await nextData(secure, "GET /exp/in-tunnel")).toMatch(/^HTTP\/1\.1 200/);
  // A kept-alive connection and a WebSocket to it over plain HTTP.
  const keptAlive = await opened(
    `GET http://registry.gh.test:${up.httpPort}/exp/keep-alive HTTP/1.1\r\nHost: registry.gh.test\r\n${auth}\r\n`,
    /^HTTP\/1\.1 200/,
  );
  const webSocket = await opened(
    `GET http://registry.gh.test:${up.httpPort}/exp/ws HTTP/1.1\r\nHost: registry.gh.test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n${auth}\r\n`,
    /^HTTP\/1\.1 101/,
  );
  // A kept-alive connection to a lasting entry: it must stay.
  const lasting = await opened(
    `GET http://echo.gh.test:${up.httpPort}/exp/lasting HTTP/1.1\r\nHost: echo.gh.test\r\n${auth}\r\n`,
    /^HTTP\/1\.1 200/,
  );

  const closed = [whenClosed(secure), whenClosed(keptAlive.socket), whenClosed(webSocket.socket)];
  let lastingClosed = false;
  lasting.socket.once("close", () => (lastingClosed = true));

  // One minute before the end: nothing happens.
  fs.writeFileSync(clockFile, String(HOUR - 60_000));
  const early = await opened(
    `GET http://registry.gh.test:${up.httpPort}/exp/still HTTP/1.1\r\nHost: registry.gh.test\r\nConnection: close\r\n${auth}\r\n`,
    /^HTTP\/1\.1 200/,
  );
  early.socket.destroy();
  expect(secure.destroyed || keptAlive.socket.destroyed || webSocket.socket.destroyed).toBe(false);

  // Past the end.
  fs.writeFileSync(clockFile, String(HOUR + 60_000));
  await Promise.race([
    Promise.all(closed),
    new Promise((_, reject) => setTimeout(() => reject(new Error("connections that depended on the grant were not closed")), 15_000)),
  ]);

  const after = await opened(
    `GET http://registry.gh.test:${up.httpPort}/exp/after HTTP/1.1\r\nHost: registry.gh.test\r\nConnection: close\r\n${auth}\r\n`,
    /^HTTP\/1\.1 403/,
  );
  const body = await new Promise<string>((resolve) => {
    let text = after.head;
    after.socket.on("data", (d: Buffer) => (text += d.toString()));
    after.socket.once("close", () => resolve(text));
  });
  const json = JSON.parse(body.slice(body.indexOf("\r\n\r\n") + 4));
  expect(json.error.code).toBe("host_not_allowed");
  expect(json.error.host).toBe(`registry.gh.test:${up.httpPort}`);

  // The lasting entry's connection is still open and still served.
  expect(lastingClosed).toBe(false);
  lasting.socket.write(`GET http://echo.gh.test:${up.httpPort}/exp/lasting-2 HTTP/1.1\r\nHost: echo.gh.test\r\n${auth}\r\n`);
  expect(await nextData(lasting.socket, "GET /exp/lasting-2")).toMatch(/^HTTP\/1\.1 200/);
  lasting.socket.destroy();

  // Recorded once per entry (the sweep's transaction), and gone from the policy document.
  const expired = async () =>
    (
      (await api(ownerKey).get(`/audit?action=grant.expired&limit=100`)).json.events as { bundle: string; detail: { pattern: string } }[]
    ).filter((e) => e.bundle === grants);
  await expect
    .poll(async () => (await expired()).map((e) => e.detail.pattern).sort())
    .toEqual([`registry.gh.test:${up.httpPort}`, `registry.gh.test:${up.httpsPort}`].sort());
  const doc = (await api(ownerKey).get("/policy")).json;
  expect(doc.bundles.find((b: { name: string }) => b.name === grants).domains).toEqual([`echo.gh.test:${up.httpPort}`]);
  // Nudging the clock again records nothing more.
  fs.writeFileSync(clockFile, String(HOUR + 120_000));
  const again = await opened(
    `GET http://echo.gh.test:${up.httpPort}/exp/nudge HTTP/1.1\r\nHost: echo.gh.test\r\nConnection: close\r\n${auth}\r\n`,
    /^HTTP\/1\.1 200/,
  );
  again.socket.destroy();
  expect(await expired()).toHaveLength(2);
});
