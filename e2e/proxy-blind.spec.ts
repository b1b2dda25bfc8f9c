// Hosts only a Domains entry allows: CONNECT tunnelled blind with the SNI checked, and
// WebSockets under the same rules, never with a credential.
import net from "node:net";
import tls from "node:tls";
import { expect, test } from "@playwright/test";
import { ProxyAgent, WebSocket as UndiciWebSocket } from "undici";
import {
  curl,
  expectNoSecretCrossed,
  gatehouseCa,
  gh,
  httpsUrl,
  proxySuite,
  raw,
  receivedAt,
  sandboxSaw,
  token,
  up,
} from "./fixtures/proxy-suite";

proxySuite();

test("Domains-only hosts are tunnelled blind, with the ClientHello's SNI checked", async () => {
  const r = await curl([httpsUrl("registry.gh.test", "/blind/ok")]);
  expect(r.status, r.stderr).toBe(200);
  expect(receivedAt("/blind/ok")[0]!.servername).toBe("registry.gh.test");
  // The upstream's own certificate reached the client: no interception happened.
  const socket = net.connect(gh.proxyPort, "127.0.0.1");
  await new Promise((res) => socket.once("connect", res));
  socket.write(`CONNECT registry.gh.test:${up.httpsPort} HTTP/1.1\r\nProxy-Authorization: Bearer ${token}\r\n\r\n`);
  await new Promise((res) => socket.once("data", res));
  const mismatched = tls.connect({ socket, servername: "evil.gh.test", rejectUnauthorized: false });
  const failed = await new Promise<boolean>((resolve) => {
    mismatched.once("secureConnect", () => resolve(false));
    mismatched.once("error", () => resolve(true));
    mismatched.once("close", () => resolve(true));
  });
  expect(failed).toBe(true);
});

test("WebSockets follow the same rules, without a credential attached", async () => {
  const agent = new ProxyAgent({ uri: `http://127.0.0.1:${gh.proxyPort}`, token: `Bearer ${token}`, requestTls: { ca: gatehouseCa } });
  const ws = new UndiciWebSocket(`wss://api.gh.test:${up.httpsPort}/repos/acme/ws`, { dispatcher: agent } as never);
  const message = await new Promise<string>((resolve, reject) => {
    ws.addEventListener("open", () => ws.send("hello"));
    ws.addEventListener("message", (e) => resolve(String(e.data)));
    ws.addEventListener("error", () => reject(new Error("websocket failed")));
  });
  sandboxSaw(message);
  expect(message).toBe("echo:hello auth:none");
  // An open WebSocket may be quiet for longer than the first-request timeout (3 s here).
  await new Promise((r) => setTimeout(r, 3_500));
  const later = await new Promise<string>((resolve, reject) => {
    ws.addEventListener("message", (e) => resolve(String(e.data)), { once: true });
    ws.addEventListener("close", () => reject(new Error("the quiet WebSocket was closed")), { once: true });
    ws.send("still there");
  });
  sandboxSaw(later);
  expect(later).toBe("echo:still there auth:none");
  ws.close();
  const seen = receivedAt("/repos/acme/ws")[0]!;
  expect(seen.headers.host).toBe(`api.gh.test:${up.httpsPort}`);
  expect(seen.headers.authorization).toBeUndefined();
  expect(JSON.stringify(seen.headers)).not.toContain(token);
  // A blocked host cannot be reached by upgrading either.
  const blocked = await raw(
    `GET http://other.gh.test:${up.httpPort}/ws HTTP/1.1\r\nHost: other.gh.test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nProxy-Authorization: Bearer ${token}\r\n\r\n`,
  );
  expect(blocked).toMatch(/^HTTP\/1\.1 403/);
  // Plain ws:// to an allowlisted host through the forward proxy.
  const allowed = await raw(
    `GET http://registry.gh.test:${up.httpPort}/plain/ws HTTP/1.1\r\nHost: registry.gh.test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nProxy-Authorization: Bearer ${token}\r\n\r\n`,
  );
  expect(allowed).toMatch(/^HTTP\/1\.1 101/);
  expect(allowed).toContain("X-Gatehouse-Outcome: allowlisted");
  await agent.close();
});

test("the upstream never saw a token, and the sandbox never saw a secret", async () => {
  await expectNoSecretCrossed();
});
