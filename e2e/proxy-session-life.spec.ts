// A session's life at the proxy: live policy and revocation, its connection cap, and a proxy
// worker that dies under it.
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import { expect, test } from "@playwright/test";
import {
  api,
  bundle,
  curl,
  expectNoSecretCrossed,
  gh,
  httpsUrl,
  httpUrl,
  orchKey,
  ownerKey,
  proxySuite,
  proxyWorkers,
  receivedAt,
  requestSession,
  sandboxSaw,
  SECRET,
  up,
  updatePolicy,
  WS,
} from "./fixtures/proxy-suite";

proxySuite();

test("a policy change, a revoked credential and a revoked session apply to the very next request", async () => {
  const probe = () => curl([httpsUrl("api.gh.test", "/repos/acme/live")]);
  expect((await probe()).headers["x-gatehouse-outcome"]).toBe("credentialed");
  expect((await api(ownerKey).delete(`/connections/${bundle}/github/credential`)).status).toBe(204);
  expect((await probe()).headers["x-gatehouse-outcome"]).toBe("allowlisted");
  expect((await api(ownerKey).put(`/connections/${bundle}/github/credential`, { secret: SECRET })).status).toBe(204);
  expect((await probe()).headers["x-gatehouse-outcome"]).toBe("credentialed");
  const newHost = `uploads.gh.test:${up.httpPort}`;
  expect((await curl([httpUrl("uploads.gh.test", "/live/new")])).status).toBe(403);
  await updatePolicy(ownerKey, (doc) => doc.bundles.find((b: { name: string }) => b.name === bundle).domains.push(newHost));
  expect((await curl([httpUrl("uploads.gh.test", "/live/new")])).status).toBe(200);

  // Revoking a session closes its open tunnel, its idle keep-alive connection and its
  // WebSocket, and fails its next request.
  const s = await requestSession(orchKey, { workspace: WS, channel: "C0PROXY" });
  const auth = `Proxy-Authorization: Bearer ${s.json.token}\r\n`;
  const opened = async (request: string, answered: RegExp) => {
    const socket = net.connect(gh.proxyPort, "127.0.0.1");
    await new Promise((r) => socket.once("connect", r));
    socket.write(request);
    const head = await new Promise<string>((r) => socket.once("data", (d: Buffer) => r(d.toString())));
    sandboxSaw(head);
    expect(head).toMatch(answered);
    return socket;
  };
  const sockets = [
    await opened(`CONNECT api.gh.test:${up.httpsPort} HTTP/1.1\r\n${auth}\r\n`, /^HTTP\/1\.1 200/),
    await opened(
      `GET http://registry.gh.test:${up.httpPort}/live/keep-alive HTTP/1.1\r\nHost: registry.gh.test\r\n${auth}\r\n`,
      /^HTTP\/1\.1 200/,
    ),
    await opened(
      `GET http://registry.gh.test:${up.httpPort}/live/ws HTTP/1.1\r\nHost: registry.gh.test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n${auth}\r\n`,
      /^HTTP\/1\.1 101/,
    ),
  ];
  const t0 = Date.now();
  const closed = sockets.map((socket) => new Promise<number>((resolve) => socket.once("close", () => resolve(Date.now() - t0))));
  expect((await api(orchKey).delete(`/sessions/${s.json.id}`)).status).toBe(204);
  for (const ms of await Promise.all(closed)) expect(ms).toBeLessThan(3000);
  const after = await curl([httpUrl("registry.gh.test", "/live/revoked")], { token: s.json.token });
  expect(after.status).toBe(407);
  expect(JSON.parse(after.body).error.code).toBe("session_revoked");
});

test("a session's open connections are bounded per proxy worker; closing them frees the slots", async () => {
  const s = await requestSession(orchKey, { workspace: WS, channel: "C0CAP" });
  const capToken = s.json.token as string;
  const open: net.Socket[] = [];
  // Tunnels held open waiting for their ClientHello; each counts against the session.
  const tunnel = () =>
    new Promise<{ socket: net.Socket; status: number }>((resolve) => {
      const socket = net.connect(gh.proxyPort, "127.0.0.1", () =>
        socket.write(`CONNECT registry.gh.test:${up.httpsPort} HTTP/1.1\r\nProxy-Authorization: Bearer ${capToken}\r\n\r\n`),
      );
      socket.once("data", (d: Buffer) => resolve({ socket, status: Number(/^HTTP\/1\.1 (\d{3})/.exec(d.toString())?.[1] ?? 0) }));
      socket.on("error", () => resolve({ socket, status: 0 }));
    });
  let refused: number | null = null;
  const workers = proxyWorkers().length;
  for (let i = 0; i < 256 * workers + 1 && refused === null; i++) {
    const t = await tunnel();
    if (t.status === 200) open.push(t.socket);
    else {
      refused = t.status;
      t.socket.destroy();
    }
  }
  expect(refused).toBe(429);
  expect(open.length).toBeGreaterThanOrEqual(256);
  expect(open.length).toBeLessThanOrEqual(256 * workers);
  // Other sessions are unaffected, and the slots come back when the tunnels close.
  expect((await curl([httpUrl("registry.gh.test", "/cap/other-session")])).status).toBe(200);
  for (const socket of open) socket.destroy();
  await expect.poll(async () => await tunnel().then((t) => (t.socket.destroy(), t.status)), { timeout: 5000 }).toBe(200);
});

test("a proxy worker that dies is replaced, the others keep serving, and its journal still reaches the chain", async () => {
  const workers = proxyWorkers();
  expect(workers.length).toBeGreaterThanOrEqual(1);
  const s = await requestSession(orchKey, { workspace: WS, channel: "C0CRASH" });
  const crashToken = s.json.token as string;
  const victim = workers[0]!;
  const victimJournal = () => fs.readdirSync(path.join(gh.proxyDataDir, "journal")).filter((f) => f.startsWith(`egress-${victim}-`));
  // Traffic until the victim has journaled something of its own.
  const victimServed = () => victimJournal().some((f) => fs.statSync(path.join(gh.proxyDataDir, "journal", f)).size > 0);
  for (let i = 0; i < 40 && !victimServed(); i++) {
    expect((await curl([httpUrl("registry.gh.test", `/crash/before/${i}`)], { token: crashToken })).status).toBe(200);
  }
  expect(victimServed()).toBe(true);
  process.kill(victim, "SIGKILL");
  // Requests keep working while a replacement starts.
  for (let i = 0; i < 5; i++)
    expect((await curl([httpUrl("registry.gh.test", `/crash/after/${i}`)], { token: crashToken })).status).toBe(200);
  await expect.poll(() => proxyWorkers().filter((p) => p !== victim).length, { timeout: 30_000 }).toBe(workers.length);
  await expect
    .poll(() => fs.readFileSync(gh.proxyLogFile, "utf8").includes(`proxy worker ${victim} exited (SIGKILL); starting another`))
    .toBe(true);
  // The dead worker's journal is imported and removed; every request it served is in the log.
  await expect.poll(() => victimJournal().length, { timeout: 10_000 }).toBe(0);
  // (The surviving worker's requests reach the chain when its importer next runs: on replicas, moments later.)
  const missing = async () => {
    const r = await api(ownerKey).get(`/audit?q=${encodeURIComponent("/crash/")}&limit=200`);
    const paths = new Set((r.json.events as { path: string }[]).map((e) => e.path));
    return [...receivedAt("/crash/")].map((x) => x.url).filter((p) => !paths.has(p));
  };
  await expect.poll(missing, { timeout: 15_000 }).toEqual([]);
});

test("the upstream never saw a token, and the sandbox never saw a secret", async () => {
  await expectNoSecretCrossed();
});
