// Plain HTTP through the forward proxy: who gets in (407, 403), what reaches the upstream, and
// the shapes of requests and answers a proxy must not pass on.
import crypto from "node:crypto";
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import { expect, test } from "@playwright/test";
import { SignInPage, state } from "./fixtures/app";
import { MALFORMED_ANSWERS, startMalformedUpstream } from "./fixtures/upstreams";
import {
  auditEventsFor,
  bundle,
  curl,
  expectNoSecretCrossed,
  gatehouseCa,
  gh,
  httpUrl,
  ownerKey,
  proxySuite,
  raw,
  receivedAt,
  sandboxSaw,
  tmp,
  token,
  up,
  updatePolicy,
} from "./fixtures/proxy-suite";

proxySuite();

test("the CA certificate is public at /api/v1/ca.pem, matches the session's, and downloads from Settings with its fingerprint", async ({
  page,
}) => {
  const res = await fetch(`${gh.baseURL}/api/v1/ca.pem`);
  expect(res.status).toBe(200);
  expect((await res.text()).trim()).toBe(gatehouseCa.trim());

  await new SignInPage(page).signInOk(state.owner.email, state.owner.password);
  await page.goto(`${gh.baseURL}/settings`);
  // As `openssl x509 -fingerprint -sha256` prints it, to compare by eye.
  await expect(page.getByText(/^SHA-256/)).toContainText(new crypto.X509Certificate(gatehouseCa).fingerprint256);
  const [download] = await Promise.all([page.waitForEvent("download"), page.getByRole("link", { name: "Download ca.pem" }).click()]);
  expect(download.suggestedFilename()).toBe("gatehouse-ca.pem");
  const file = path.join(tmp, "downloaded-ca.pem");
  await download.saveAs(file);
  expect(fs.readFileSync(file, "utf8").trim()).toBe(gatehouseCa.trim());
});

test("no token, a bad token: 407 with Proxy-Authenticate", async () => {
  for (const t of [null, "gs_not_a_real_token"]) {
    const r = await curl([httpUrl("registry.gh.test", "/no-token")], { token: t });
    expect(r.status).toBe(407);
    expect(r.headers["proxy-authenticate"]).toBe('Basic realm="gatehouse"');
    expect(r.headers["x-gatehouse-outcome"]).toBe("blocked");
    expect(r.headers["x-gatehouse-request-id"]).toMatch(/^req_/);
  }
  const viaConnect = await raw(`CONNECT registry.gh.test:${up.httpsPort} HTTP/1.1\r\nHost: registry.gh.test:${up.httpsPort}\r\n\r\n`);
  expect(viaConnect).toMatch(/^HTTP\/1\.1 407/);
  expect(viaConnect).toContain('Proxy-Authenticate: Basic realm="gatehouse"');
  expect(receivedAt("/no-token")).toHaveLength(0);
});

test("allowlisted plain HTTP: canonical Host, no proxy credentials or token upstream, Gatehouse in Via", async () => {
  const r = await curl([
    "-H",
    `X-Leak: ${token}`,
    "-H",
    "Proxy-Connection: keep-alive",
    "-H",
    "Via: 1.0 sandbox-cache",
    httpUrl("REGISTRY.gh.test.", "/allow/plain?q=1"),
  ]);
  expect(r.status).toBe(200);
  expect(r.headers["x-gatehouse-outcome"]).toBe("allowlisted");
  expect(r.headers.via).toBe("1.1 gatehouse");
  const seen = receivedAt("/allow/plain")[0]!;
  expect(seen.headers.host).toBe(`registry.gh.test:${up.httpPort}`);
  expect(seen.headers["proxy-authorization"]).toBeUndefined();
  expect(seen.headers["proxy-connection"]).toBeUndefined();
  expect(seen.headers["x-leak"]).toBeUndefined();
  expect(JSON.stringify(seen.headers)).not.toContain(token);
  expect(seen.headers.via).toBe("1.0 sandbox-cache, 1.1 gatehouse");
  expect(seen.url).toBe("/allow/plain?q=1");
});

test("blocked: 403 JSON with a reason, no connection, and an audit event without the query", async () => {
  const r = await curl([httpUrl("other.gh.test", "/blocked/path?secret-query=1")]);
  expect(r.status).toBe(403);
  expect(r.headers["x-gatehouse-outcome"]).toBe("blocked");
  const body = JSON.parse(r.body);
  expect(body.error.code).toBe("host_not_allowed");
  expect(body.error.message).toContain("ask an Owner");
  expect(body.error.requestId).toBe(r.headers["x-gatehouse-request-id"]);
  expect(receivedAt("/blocked")).toHaveLength(0);
  const [ev, ...more] = await auditEventsFor(body.error.requestId);
  expect(ev).toMatchObject({
    action: "egress.request",
    outcome: "blocked",
    rule: "default:block",
    path: "/blocked/path",
    host: "other.gh.test",
    member: "U0ALICE",
    status: 403,
  });
  expect(more).toHaveLength(0);
  expect(JSON.stringify(ev)).not.toContain("secret-query");
  // A blocked CONNECT gets the same 403.
  const c = await raw(`CONNECT other.gh.test:${up.httpsPort} HTTP/1.1\r\nProxy-Authorization: Bearer ${token}\r\n\r\n`);
  expect(c).toMatch(/^HTTP\/1\.1 403/);
  expect(c).toContain("X-Gatehouse-Outcome: blocked");
  expect(c).toContain("host_not_allowed");
  expect(receivedAt("/blocked")).toHaveLength(0);
  // The org-wide deny beats a Domains entry.
  const denied = await curl([httpUrl("paste.gh.test", "/blocked/deny")]);
  expect(denied.status).toBe(403);
  expect(JSON.parse(denied.body).error.code).toBe("org_denied");
});

test("attacks on the target: userinfo, IP literals, trailing dots, SSRF to metadata", async () => {
  // curl moves userinfo into an Authorization header; a raw client can put it in the target.
  const userinfo = await raw(
    `GET http://user:pw@registry.gh.test:${up.httpPort}/attack/userinfo HTTP/1.1\r\nHost: registry.gh.test\r\nProxy-Authorization: Bearer ${token}\r\nConnection: close\r\n\r\n`,
  );
  expect(userinfo).toMatch(/^HTTP\/1\.1 403/);
  expect(userinfo).toContain("userinfo_not_allowed");
  const ip = await curl([`http://127.0.0.2:${up.httpPort}/attack/ip`]);
  expect(ip.status).toBe(403);
  const listedIp = await curl([`http://127.0.0.1:${up.httpPort}/attack/listed-ip`]);
  expect(listedIp.status).toBe(200);
  const dotted = await curl([`https://api.gh.test.:${up.httpsPort}/repos/acme/dotted`]);
  expect(dotted.headers["x-gatehouse-outcome"]).toBe("credentialed");
  const meta = await curl([httpUrl("meta.gh.test", "/attack/metadata")]);
  expect(meta.status).toBe(403);
  expect(JSON.parse(meta.body).error.code).toBe("private_address");
  expect(receivedAt("/attack/ip")).toHaveLength(0);
  expect(receivedAt("/attack/userinfo")).toHaveLength(0);
});

test("smuggling shapes and oversized headers are refused; the process keeps running", async () => {
  const auth = `Proxy-Authorization: Bearer ${token}\r\n`;
  const base = `http://registry.gh.test:${up.httpPort}/smuggle`;
  const both = await raw(
    `POST ${base} HTTP/1.1\r\nHost: registry.gh.test\r\n${auth}Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`,
  );
  expect(both).toMatch(/^HTTP\/1\.1 400/);
  const dupe = await raw(`POST ${base} HTTP/1.1\r\nHost: registry.gh.test\r\n${auth}Content-Length: 4\r\nContent-Length: 4\r\n\r\nabcd`);
  expect(dupe).toMatch(/^HTTP\/1\.1 400/);
  const huge = await raw(`GET ${base} HTTP/1.1\r\nHost: registry.gh.test\r\n${auth}X-Big: ${"a".repeat(40_000)}\r\n\r\n`);
  expect(huge).toMatch(/^HTTP\/1\.1 431/);
  const many = await raw(
    `GET ${base} HTTP/1.1\r\nHost: registry.gh.test\r\n${auth}${Array.from({ length: 120 }, (_, i) => `X-H${i}: 1\r\n`).join("")}Connection: close\r\n\r\n`,
  );
  expect(many).toMatch(/^HTTP\/1\.1 431/);
  const garbage = await raw("NOT HTTP AT ALL\r\n\r\n");
  expect(garbage).toMatch(/^HTTP\/1\.1 400/);
  expect(receivedAt("/smuggle")).toHaveLength(0);
  expect((await curl([httpUrl("registry.gh.test", "/still-alive")])).status).toBe(200);
});

test("a request body reaches the upstream whole: on a reused upstream connection, in pieces, and after Expect: 100-continue", async () => {
  // One client connection (so one proxy worker, one upstream pool): a GET leaves an idle
  // upstream connection behind, then POSTs reuse it, their bodies split around a pause.
  const socket = net.connect(gh.proxyPort, "127.0.0.1");
  await new Promise((r) => socket.once("connect", r));
  let received = "";
  socket.on("data", (d: Buffer) => (received += d.toString()));
  const responses = (n: number) => expect.poll(() => received.split("HTTP/1.1 ").length - 1, { timeout: 8000 }).toBe(n);
  const auth = `Proxy-Authorization: Bearer ${token}\r\n`;
  socket.write(`GET http://registry.gh.test:${up.httpPort}/body/warm HTTP/1.1\r\nHost: registry.gh.test\r\n${auth}\r\n`);
  await responses(1);
  for (const [i, parts] of [
    ["hello ", "world"],
    ["", "hello world"],
    ["hello world", ""],
  ].entries()) {
    await new Promise((r) => setTimeout(r, 50));
    socket.write(
      `POST http://registry.gh.test:${up.httpPort}/body/${i} HTTP/1.1\r\nHost: registry.gh.test\r\n${auth}Content-Length: 11\r\n\r\n${parts[0]}`,
    );
    await new Promise((r) => setTimeout(r, 200));
    if (parts[1]) socket.write(parts[1]);
    await responses(i + 2);
    expect(receivedAt(`/body/${i}`).map((r) => r.body)).toEqual(["hello world"]);
  }
  expect(received.match(/HTTP\/1\.1 \d{3}/g)).toEqual(Array(4).fill("HTTP/1.1 200"));
  sandboxSaw(received);
  socket.destroy();

  // Clients that wait for "100 Continue" before a large body (curl, git push) get it from the
  // proxy; the body then goes upstream whole.
  const large = "x".repeat(200_000);
  const bodyFile = path.join(tmp, "large-body.txt");
  fs.writeFileSync(bodyFile, large);
  const r = await curl(["-H", "Expect: 100-continue", "--data-binary", `@${bodyFile}`, httpUrl("registry.gh.test", "/body/expect")]);
  expect(r.status, r.stderr).toBe(200);
  expect(receivedAt("/body/expect").map((x) => [x.body.length, x.headers.expect])).toEqual([[large.length, undefined]]);
});

test("an upstream that closes a kept-alive connection as a request arrives: a GET goes again on a new connection, a POST is not repeated", async () => {
  const seen: string[] = [];
  // Answers the first request on each connection and closes the connection on the next one, as
  // a server does whose idle timeout fires just then. A POST always meets a closing connection.
  const forgetful = net.createServer((conn) => {
    let served = 0;
    conn.on("data", (d: Buffer) => {
      const line = d.toString("latin1").split("\r\n")[0]!;
      seen.push(line);
      if (served++ === 0 && !line.startsWith("POST")) conn.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
      else conn.destroy();
    });
    conn.on("error", () => undefined);
  });
  await new Promise<void>((r) => forgetful.listen(0, "127.0.0.1", r));
  const port = (forgetful.address() as net.AddressInfo).port;
  try {
    await updatePolicy(ownerKey, (doc) =>
      doc.bundles.find((b: { name: string }) => b.name === bundle).domains.push(`registry.gh.test:${port}`),
    );
    // One client connection: one proxy worker, one upstream pool.
    const socket = net.connect(gh.proxyPort, "127.0.0.1");
    await new Promise((r) => socket.once("connect", r));
    let received = "";
    socket.on("data", (d: Buffer) => (received += d.toString()));
    const statuses = () => (received.match(/HTTP\/1\.1 \d{3}/g) ?? []).map((x) => Number(x.slice(9)));
    const auth = `Proxy-Authorization: Bearer ${token}\r\n`;
    const send = async (request: string, answers: number) => {
      socket.write(request);
      await expect.poll(() => statuses().length, { timeout: 8000 }).toBe(answers);
    };
    await send(`GET http://registry.gh.test:${port}/first HTTP/1.1\r\nHost: registry.gh.test\r\n${auth}\r\n`, 1);
    await send(`GET http://registry.gh.test:${port}/second HTTP/1.1\r\nHost: registry.gh.test\r\n${auth}\r\n`, 2);
    await send(`POST http://registry.gh.test:${port}/third HTTP/1.1\r\nHost: registry.gh.test\r\n${auth}Content-Length: 1\r\n\r\nx`, 3);
    sandboxSaw(received);
    socket.destroy();
    expect(statuses()).toEqual([200, 200, 502]);
    expect(seen).toEqual(["GET /first HTTP/1.1", "GET /second HTTP/1.1", "GET /second HTTP/1.1", "POST /third HTTP/1.1"]);
  } finally {
    forgetful.close();
  }
});

test("an upstream that breaks HTTP gets the sandbox a 502 upstream_invalid_response with the reason; 1xx answers are skipped; the process keeps serving", async () => {
  const bad = await startMalformedUpstream();
  try {
    await updatePolicy(ownerKey, (doc) =>
      doc.bundles.find((b: { name: string }) => b.name === bundle).domains.push(`registry.gh.test:${bad.port}`),
    );
    const via = (p: string) => curl([`http://registry.gh.test:${bad.port}${p}`]);
    for (const p of Object.keys(MALFORMED_ANSWERS).filter((x) => !["/early-hints", "/forged-outcome"].includes(x))) {
      const r = await via(p);
      expect(r.status, p).toBe(502);
      expect(JSON.parse(r.body).error, p).toMatchObject({
        code: "upstream_invalid_response",
        message: expect.stringMatching(/^the upstream's answer was not valid HTTP: ./),
      });
      expect(r.headers["x-gatehouse-outcome"], p).toBe("allowlisted");
    }
    const hinted = await via("/early-hints");
    expect([hinted.status, hinted.body]).toEqual([200, "final"]);
    // Dropped, not passed on: an HTTP/1.1 client like Python's http.client would take it for the answer.
    const rawHinted = await raw(
      `GET http://registry.gh.test:${bad.port}/early-hints HTTP/1.1\r\nHost: registry.gh.test\r\nProxy-Authorization: Bearer ${token}\r\nConnection: close\r\n\r\n`,
    );
    expect(rawHinted).toMatch(/^HTTP\/1\.1 200 /);
    expect(rawHinted).not.toMatch(/HTTP\/1\.1 103/);
    // An upstream cannot speak for Gatehouse.
    const forged = await via("/forged-outcome");
    expect(forged.headers["x-gatehouse-outcome"]).toBe("allowlisted");
    expect((await curl([httpUrl("registry.gh.test", "/after-malformed")])).status).toBe(200);
  } finally {
    await bad.close();
  }
});

test("the upstream never saw a token, and the sandbox never saw a secret", async () => {
  await expectNoSecretCrossed();
});
