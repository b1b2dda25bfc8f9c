// Credentialed HTTPS through interception: the credential attached at the boundary, narrowed,
// redacted from everything that comes back, and recorded before the first byte leaves.
import crypto from "node:crypto";
import fs from "node:fs";
import http from "node:http";
import https from "node:https";
import net from "node:net";
import path from "node:path";
import tls from "node:tls";
import { expect, test } from "@playwright/test";
import { createCertificateAuthority, issueLeafForNames } from "../lib/proxy/certificates";
import {
  api,
  auditEventsFor,
  BASIC_SECRET,
  bundle,
  cli,
  curl,
  expectNoSecretCrossed,
  gatehouseCa,
  gh,
  HEADER_SECRET,
  httpsUrl,
  httpUrl,
  ownerKey,
  proxySuite,
  readDb,
  receivedAt,
  sandboxSaw,
  SECRET,
  token,
  up,
  updatePolicy,
} from "./fixtures/proxy-suite";

proxySuite();

test("credentialed HTTPS through interception: the sandbox's own Authorization is replaced", async () => {
  const before = Date.now();
  const r = await curl(["-H", "Authorization: Bearer sandbox-forged", httpsUrl("api.gh.test", "/repos/acme/app")]);
  expect(r.status, r.stderr).toBe(200);
  expect(r.headers["x-gatehouse-outcome"]).toBe("credentialed");
  const seen = receivedAt("/repos/acme/app")[0]!;
  expect(seen.headers.authorization).toBe(`Bearer ${SECRET}`);
  expect(seen.headers.host).toBe(`api.gh.test:${up.httpsPort}`);
  expect(seen.servername).toBe("api.gh.test");
  expect(r.body).not.toContain(SECRET);
  expect(r.body).toContain("[REDACTED]");
  const [ev] = await auditEventsFor(r.headers["x-gatehouse-request-id"]!);
  expect(ev).toMatchObject({
    action: "egress.request",
    outcome: "credentialed",
    connection: "github",
    serviceAccount: "claude-agent@acme.example",
    bundle,
  });
  // The credential's last use reaches the database through the journal, moments later.
  const lastUsed = () =>
    readDb(
      (db) => db.prepare("SELECT last_used_at FROM credentials WHERE identity = ?").pluck().get(`${bundle}/github`) as number | null,
    ) ?? 0;
  await expect.poll(lastUsed, { timeout: 5000 }).toBeGreaterThanOrEqual(before);
});

test("an upstream whose certificate does not verify gets no request and no credential: 502 upstream_tls_failed", async () => {
  // A real TLS server for echo.gh.test, with a certificate from a CA nobody trusts.
  const stranger = await createCertificateAuthority("Untrusted test CA");
  const leaf = await issueLeafForNames({ names: ["echo.gh.test"], caCertPem: stranger.certPem, caKeyPem: stranger.keyPem });
  const seen: http.IncomingHttpHeaders[] = [];
  const impostor = https.createServer({ cert: leaf.certPem, key: leaf.keyPem }, (req, res) => {
    seen.push(req.headers);
    res.end("impostor");
  });
  await new Promise<void>((r) => impostor.listen(0, "127.0.0.1", r));
  const port = (impostor.address() as net.AddressInfo).port;
  try {
    await updatePolicy(ownerKey, (doc) =>
      doc.bundles
        .find((b: { name: string }) => b.name === bundle)
        .connections.find((c: { name: string }) => c.name === "keyed")
        .allowedWebsites.push(`echo.gh.test:${port}`),
    );
    const r = await curl([`https://echo.gh.test:${port}/impostor`]);
    expect(r.status).toBe(502);
    expect(JSON.parse(r.body).error.code).toBe("upstream_tls_failed");
    expect(r.body).not.toContain(HEADER_SECRET);
    expect(seen).toHaveLength(0);
    const requestId = r.headers["x-gatehouse-request-id"]!;
    await expect.poll(async () => (await auditEventsFor(requestId)).map((e) => e.status)).toContain(502);
  } finally {
    impostor.closeAllConnections();
    await new Promise((r) => impostor.close(r));
  }
});

test("the narrowing decides whether the key travels; the lists decide whether the request does", async () => {
  const cases: [string, string[], string][] = [
    ["/repos/acme-evil/x", [], "prefix on a segment boundary"],
    ["/repos/other", [], "outside the prefix"],
    ["/repos/acme/../other/dots", ["--path-as-is"], "dot segments"],
    ["/repos/acme%2Fslash", [], "encoded slash"],
    ["/repos/acme/post", ["-X", "POST", "-d", "x=1"], "write method"],
    ["/repos/acme/override", ["-H", "X-HTTP-Method-Override: DELETE"], "method override"],
  ];
  for (const [p, extra, why] of cases) {
    const r = await curl([...extra, httpsUrl("api.gh.test", p)]);
    expect(r.status, why).toBe(200);
    expect(r.headers["x-gatehouse-outcome"], why).toBe("allowlisted");
  }
  for (const r of up.received.filter(
    (x) =>
      x.url.startsWith("/repos/acme-evil") ||
      x.url.startsWith("/repos/other") ||
      x.url.includes("slash") ||
      x.url.includes("/post") ||
      x.url.includes("override") ||
      x.url.includes("dots"),
  )) {
    expect(r.headers.authorization, r.url).toBeUndefined();
  }
  // Another Allowed website of the same connection, outside the narrowing host.
  const other = await curl([httpsUrl("uploads.gh.test", "/repos/acme/upload")]);
  expect(other.headers["x-gatehouse-outcome"]).toBe("allowlisted");
  expect(receivedAt("/repos/acme/upload")[0]!.headers.authorization).toBeUndefined();
  // Plain HTTP to an Allowed website never carries the credential.
  const plain = await curl([httpUrl("api.gh.test", "/repos/acme/plain")]);
  expect(plain.headers["x-gatehouse-outcome"]).toBe("allowlisted");
  expect(receivedAt("/repos/acme/plain")[0]!.headers.authorization).toBeUndefined();
});

test("redaction: a reflected secret never reaches the sandbox, in headers or a chunked body", async () => {
  const bearer = await curl([httpsUrl("api.gh.test", "/repos/acme/reflect")]);
  expect(bearer.status).toBe(200);
  expect(bearer.body).toBe("you sent: Bearer [REDACTED] (and again: Bearer [REDACTED])");
  expect(bearer.headers["x-echo-auth"]).toBe("Bearer [REDACTED]");
  const header = await curl([httpsUrl("echo.gh.test", "/reflect/key")]);
  expect(header.headers["x-gatehouse-outcome"]).toBe("credentialed");
  expect(receivedAt("/reflect/key")[0]!.headers["x-api-key"]).toBe(HEADER_SECRET);
  expect(header.body).not.toContain(HEADER_SECRET);
  expect(header.body).toContain("[REDACTED]");
  const basic = await curl(["-u", "sandbox:forged", httpsUrl("raw.gh.test", "/reflect/basic")]);
  const sent = receivedAt("/reflect/basic")[0]!.headers.authorization!;
  expect(Buffer.from(sent.replace(/^Basic /, ""), "base64").toString()).toBe(`bot:${BASIC_SECRET}`);
  expect(basic.body).not.toContain(sent.replace(/^Basic /, ""));
  expect(basic.body).toBe("you sent: Basic [REDACTED] (and again: Basic [REDACTED])");
});

test("redaction: a reflection is found whatever the body claims to be (binary, unlabelled, TRACE's message/http)", async () => {
  // The keyed connection is not narrowed to read-only methods, so TRACE carries its credential.
  for (const [method, type] of [
    ["GET", "application/octet-stream"],
    ["GET", "image/png"],
    ["GET", ""],
    ["TRACE", "message/http"],
  ] as const) {
    const r = await curl(["-X", method, httpsUrl("echo.gh.test", `/reflect/any?type=${encodeURIComponent(type)}`)]);
    expect(r.status, `${method} ${type}`).toBe(200);
    expect(r.headers["x-gatehouse-outcome"], `${method} ${type}`).toBe("credentialed");
    expect(r.body, `${method} ${type}`).toBe("you sent: [REDACTED] (and again: [REDACTED])");
    expect(r.headers["content-type"] ?? "", `${method} ${type}`).toBe(type);
    // Echoed as a header's name too: that header is dropped.
    expect(r.headers["x-echo-auth"]).toBe("[REDACTED]");
    expect(JSON.stringify(r.headers)).not.toContain(HEADER_SECRET);
  }
  expect(receivedAt("/reflect/any").map((x) => x.headers["x-api-key"])).toEqual([
    HEADER_SECRET,
    HEADER_SECRET,
    HEADER_SECRET,
    HEADER_SECRET,
  ]);
});

test("redaction: a credentialed request asks for the whole body, so byte ranges cannot carry the secret out piece by piece", async () => {
  // "you sent: Bearer " is 17 bytes: this range would be the secret's first 8 bytes, too short to recognise.
  const r = await curl(["-r", "17-24", httpsUrl("api.gh.test", "/repos/acme/reflect/range")]);
  expect(r.headers["x-gatehouse-outcome"]).toBe("credentialed");
  expect(receivedAt("/repos/acme/reflect/range")[0]!.headers.range).toBeUndefined();
  expect(r.status).toBe(200);
  expect(r.body).toBe("you sent: Bearer [REDACTED] (and again: Bearer [REDACTED])");
  expect(r.body).not.toContain(SECRET.slice(0, 8));
  // Without a credential, ranges go through as asked.
  const plain = await curl(["-r", "0-3", `http://registry.gh.test:${up.httpPort}/reflect/plain-range`]);
  expect(plain.status).toBe(206);
  expect(plain.body).toBe("you ");
});

test("redaction: a HEAD answer keeps its Content-Length (no body to scan), its headers still redacted", async () => {
  const get = await curl([httpsUrl("api.gh.test", "/repos/acme/reflect/head?type=application/json")]);
  const head = await curl(["-I", httpsUrl("api.gh.test", "/repos/acme/reflect/head?type=application/json")]);
  expect(head.status).toBe(200);
  expect(head.headers["x-gatehouse-outcome"]).toBe("credentialed");
  expect(head.headers["x-echo-auth"]).toBe("Bearer [REDACTED]");
  expect(head.headers["content-length"]).toBe(String(Buffer.byteLength(`you sent: Bearer ${SECRET} (and again: Bearer ${SECRET})`)));
  // The GET's body is rewritten, so it goes without a length.
  expect(get.headers["content-length"]).toBeUndefined();
  expect(get.body).toBe("you sent: Bearer [REDACTED] (and again: Bearer [REDACTED])");
});

test("a large binary download through a credentialed connection arrives whole, scanned on the way", async () => {
  const size = 64 * 1024 * 1024;
  const started = Date.now();
  const r = await curl([httpsUrl("api.gh.test", `/repos/acme/big?n=${size}`)]);
  expect(r.status).toBe(200);
  expect(r.headers["x-gatehouse-outcome"]).toBe("credentialed");
  expect(r.body.length).toBe(size);
  expect(crypto.createHash("sha256").update(r.body).digest("hex")).toBe(
    crypto.createHash("sha256").update(Buffer.alloc(size, 7)).digest("hex"),
  );
  expect(Date.now() - started).toBeLessThan(30_000);
});

test("a session cookie an upstream opens for the attached credential stays at the boundary; without a credential, cookies pass", async () => {
  const credentialed = await curl([httpsUrl("api.gh.test", "/repos/acme/login-cookie")]);
  expect(credentialed.status).toBe(200);
  expect(credentialed.headers["x-gatehouse-outcome"]).toBe("credentialed");
  expect(credentialed.headers["set-cookie"]).toBeUndefined();
  expect(credentialed.body).toBe("signed in");
  const plain = await curl([httpUrl("registry.gh.test", "/login-cookie")]);
  expect(plain.headers["x-gatehouse-outcome"]).toBe("allowlisted");
  expect(plain.headers["set-cookie"]).toBeDefined();
});

test("redaction: a compressed body is unpacked and scanned, one that cannot be unpacked is refused", async () => {
  for (const encoding of ["gzip", "deflate", "br"]) {
    const r = await curl([httpsUrl("api.gh.test", `/repos/acme/echo-packed/${encoding}`)]);
    expect(r.status, encoding).toBe(200);
    expect(r.body, encoding).toBe("you sent: Bearer [REDACTED]");
    expect(r.headers["content-encoding"], encoding).toBeUndefined();
  }
  const unknown = await curl([httpsUrl("api.gh.test", "/repos/acme/echo-packed/zstd")]);
  expect(unknown.status).toBe(502);
  expect(JSON.parse(unknown.body).error).toMatchObject({
    code: "upstream_invalid_response",
    message: expect.stringContaining("zstd encoding"),
  });
  expect(unknown.body).not.toContain(SECRET);
  // No body at all is not a corrupt one.
  const head = await curl(["-I", httpsUrl("api.gh.test", "/repos/acme/echo-packed/gzip")]);
  expect(head.status).toBe(200);
  const corrupt = await curl([httpsUrl("api.gh.test", "/repos/acme/echo-packed/corrupt-gzip")]);
  expect(corrupt.status).toBe(502);
  expect(JSON.parse(corrupt.body).error.message).toContain("compressed body is corrupt");
});

test("a redirect to an unlisted host is not followed into the open", async () => {
  const target = `http://evil.gh.test:${up.httpPort}/redirected`;
  const r = await curl(["-L", httpsUrl("api.gh.test", `/repos/acme/redirect?to=${encodeURIComponent(target)}`)]);
  expect(r.status).toBe(403);
  expect(r.headers["x-gatehouse-outcome"]).toBe("blocked");
  expect(receivedAt("/redirected")).toHaveLength(0);
});

test("SNI and inner Host must equal the CONNECT target", async () => {
  const connect = async () => {
    const socket = net.connect(gh.proxyPort, "127.0.0.1");
    await new Promise((r) => socket.once("connect", r));
    socket.write(
      `CONNECT api.gh.test:${up.httpsPort} HTTP/1.1\r\nHost: api.gh.test:${up.httpsPort}\r\nProxy-Authorization: Bearer ${token}\r\n\r\n`,
    );
    await new Promise<void>((resolve) => socket.once("data", (d: Buffer) => (expect(d.toString()).toContain("200"), resolve())));
    return socket;
  };
  // SNI names another host: the handshake fails.
  const s1 = await connect();
  const badSni = tls.connect({ socket: s1, servername: "evil.gh.test", ca: gatehouseCa });
  const sniError = await new Promise<Error | null>((resolve) => {
    badSni.once("secureConnect", () => resolve(null));
    badSni.once("error", resolve);
  });
  expect(sniError).not.toBeNull();
  badSni.destroy();
  // Right SNI, but the request's Host names another host: 403.
  const s2 = await connect();
  const good = tls.connect({ socket: s2, servername: "api.gh.test", ca: gatehouseCa });
  await new Promise((r) => good.once("secureConnect", r));
  good.write(`GET /repos/acme/hostswap HTTP/1.1\r\nHost: evil.gh.test:${up.httpsPort}\r\nConnection: close\r\n\r\n`);
  const response = await new Promise<string>((resolve) => {
    let text = "";
    good.on("data", (d: Buffer) => (text += d.toString()));
    good.on("end", () => resolve(text));
    good.on("close", () => resolve(text));
  });
  sandboxSaw(response);
  expect(response).toMatch(/^HTTP\/1\.1 403/);
  expect(response).toContain("host_mismatch");
  expect(receivedAt("/repos/acme/hostswap")).toHaveLength(0);
});

test("the egress event is durable before the first byte goes upstream, and completed with status, bytes and duration", async () => {
  // What is on disk (journal or chain) at the moment the upstream sees the request.
  const onDisk = () => {
    const dir = path.join(gh.proxyDataDir, "journal");
    const journal = fs
      .readdirSync(dir)
      .map((f) => fs.readFileSync(path.join(dir, f), "utf8"))
      .join("");
    const chain = readDb((db) =>
      JSON.stringify(db.prepare("SELECT request_id, path FROM audit_events WHERE path = ?").all("/repos/acme/durable")),
    );
    return journal + chain;
  };
  let recordedFirst = false;
  up.onRequest = (r) => {
    if (r.url.startsWith("/repos/acme/durable")) recordedFirst = onDisk().includes("/repos/acme/durable");
  };
  const r = await curl([httpsUrl("api.gh.test", "/repos/acme/durable")]);
  up.onRequest = undefined;
  expect(r.status).toBe(200);
  expect(recordedFirst).toBe(true);
  // An auditor reading the log sees the request with its outcome and completion.
  // (On replicas the proxy's importer moves it into the chain moments later.)
  let events: Record<string, any>[] = [];
  await expect
    .poll(async () => (events = await auditEventsFor(r.headers["x-gatehouse-request-id"]!)).map((e) => e.status).find((s) => s !== null), {
      timeout: 15_000,
    })
    .toBe(200);
  expect(events.find((e) => e.status === 200)!.bytesIn).toBeGreaterThan(10);
  expect(events.find((e) => e.status === 200)!.durationMs).toBeGreaterThanOrEqual(0);
});

test("a running Gatehouse follows vault rotate-key: credentials keep attaching, new ones seal under the new key", async () => {
  const probe = async (p: string) => {
    const r = await curl([httpsUrl("api.gh.test", p)]);
    return { outcome: r.headers["x-gatehouse-outcome"], auth: receivedAt(p)[0]?.headers.authorization };
  };
  expect(await probe("/repos/acme/rotate-before")).toEqual({ outcome: "credentialed", auth: `Bearer ${SECRET}` });
  const keyBefore = fs.readFileSync(path.join(gh.dataDir, "master.key"), "utf8");
  const rotated = cli(["vault", "rotate-key"]);
  expect(rotated.code, rotated.stderr).toBe(0);
  expect(fs.readFileSync(path.join(gh.dataDir, "master.key"), "utf8")).not.toBe(keyBefore);
  // The proxy workers open the re-sealed credential with the new key, without a restart.
  expect(await probe("/repos/acme/rotate-after")).toEqual({ outcome: "credentialed", auth: `Bearer ${SECRET}` });
  // The dashboard process seals a replaced credential under the new key too; the proxy uses it.
  expect((await api(ownerKey).put(`/connections/${bundle}/github/credential`, { secret: `${SECRET}_v2` })).status).toBe(204);
  expect(await probe("/repos/acme/rotate-replaced")).toEqual({ outcome: "credentialed", auth: `Bearer ${SECRET}_v2` });
  expect((await api(ownerKey).put(`/connections/${bundle}/github/credential`, { secret: SECRET })).status).toBe(204);
  expect(await probe("/repos/acme/rotate-restored")).toEqual({ outcome: "credentialed", auth: `Bearer ${SECRET}` });
});

test("the upstream never saw a token, and the sandbox never saw a secret", async () => {
  await expectNoSecretCrossed();
});
