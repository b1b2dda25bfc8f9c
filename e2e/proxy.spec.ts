// The egress proxy through the real `npm start` process, with real clients (curl, undici's
// ProxyAgent, git) against local HTTP and HTTPS upstreams that echo what they receive.
import { spawn, spawnSync } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import http from "node:http";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import tls from "node:tls";
import https from "node:https";
import { expect, test } from "@playwright/test";
import { ProxyAgent, WebSocket as UndiciWebSocket, fetch as undiciFetch } from "undici";
import { createCertificateAuthority, issueLeafForNames } from "../lib/proxy/certificates";
import { api, auditEventsFor, cli, createApiKey, readDb, requestSession, SignInPage, state, unique, updatePolicy } from "./fixtures/app";
import { MALFORMED_ANSWERS, startMalformedUpstream, startUpstreams, type Upstreams } from "./fixtures/upstreams";

test.describe.configure({ mode: "serial" });

const SECRET = "ghp_FAKE_proxy_test_token_0000";
const HEADER_SECRET = "fake-api-key-4242";
const BASIC_SECRET = "fake-basic-password";

let up: Upstreams;
let ownerKey: string;
let orchKey: string;
let token: string;
let sessionId: string;
let caBundle: string;
let gatehouseCa: string;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "gh-proxy-spec-"));
const WS = "T0PROXY";
const bundle = unique("proxy");

type CurlResult = { status: number; headers: Record<string, string>; body: string; code: number | null; stderr: string };

/** Runs curl without blocking this process: the upstreams live in it. */
function run(cmd: string, args: string[], opts: { cwd?: string; env?: Record<string, string> } = {}): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: opts.cwd, env: { ...process.env, ...opts.env } });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("close", (status) => resolve({ status, stdout, stderr }));
  });
}

async function curl(args: string[], opts: { token?: string | null } = {}): Promise<CurlResult> {
  const headerFile = path.join(tmp, `${unique("h")}.txt`);
  const bodyFile = path.join(tmp, `${unique("b")}.txt`);
  const t = opts.token === undefined ? token : opts.token;
  const proxy = t === null ? `http://127.0.0.1:${state.proxyPort}` : `http://session:${t}@127.0.0.1:${state.proxyPort}`;
  const r = await run("curl", ["-sS", "--max-time", "15", "-x", proxy, "--cacert", caBundle, "-D", headerFile, "-o", bodyFile, "-w", "%{http_code}", ...args], { env: { NO_PROXY: "", no_proxy: "" } });
  const rawHeaders = fs.existsSync(headerFile) ? fs.readFileSync(headerFile, "utf8") : "";
  // With CONNECT, curl writes the proxy's response headers first: keep the last block.
  const blocks = rawHeaders.split(/\r?\n\r?\n/).filter((b) => b.trim());
  const headers: Record<string, string> = {};
  for (const line of (blocks[blocks.length - 1] ?? "").split(/\r?\n/).slice(1)) {
    const i = line.indexOf(":");
    if (i > 0) headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
  }
  return { status: Number(r.stdout.trim().slice(-3)), headers, body: fs.existsSync(bodyFile) ? fs.readFileSync(bodyFile, "utf8") : "", code: r.status, stderr: r.stderr };
}

const httpsUrl = (host: string, p: string) => `https://${host}:${up.httpsPort}${p}`;
const httpUrl = (host: string, p: string) => `http://${host}:${up.httpPort}${p}`;
const receivedAt = (p: string) => up.received.filter((r) => r.url.startsWith(p));

test.beforeAll(async () => {
  up = await startUpstreams();
  ownerKey = createApiKey("owner");
  orchKey = createApiKey("orchestrator");
  await updatePolicy(ownerKey, (doc) => {
    doc.memberAccess = { mode: "anyone", roles: [], directMessages: "enabled" };
    delete doc.channels;
    doc.orgDeny = [...new Set([...(doc.orgDeny ?? []), "paste.gh.test"])];
    doc.bundles.push({
      name: bundle,
      scope: { type: "workspace", workspace: WS },
      domains: [`registry.gh.test:${up.httpsPort}`, `registry.gh.test:${up.httpPort}`, `paste.gh.test:${up.httpPort}`, `meta.gh.test:${up.httpPort}`, `127.0.0.1:${up.httpPort}`],
      connections: [
        { name: "github", serviceAccount: "claude-agent@acme.example", inject: { type: "bearer" }, allowedWebsites: [`api.gh.test:${up.httpsPort}`, `api.gh.test:${up.httpPort}`, `uploads.gh.test:${up.httpsPort}`], narrow: { host: "api.gh.test", pathPrefix: "/repos/acme", methods: "read_only" } },
        { name: "keyed", serviceAccount: "bot@acme.example", inject: { type: "header", name: "X-Api-Key" }, allowedWebsites: [`echo.gh.test:${up.httpsPort}`] },
        { name: "basic", serviceAccount: "bot@acme.example", inject: { type: "basic", username: "bot" }, allowedWebsites: [`raw.gh.test:${up.httpsPort}`, `git.gh.test:${up.httpsPort}`] },
      ],
    });
  });
  const owner = api(ownerKey);
  expect((await owner.put(`/connections/${bundle}/github/credential`, { secret: SECRET })).status).toBe(204);
  expect((await owner.put(`/connections/${bundle}/keyed/credential`, { secret: HEADER_SECRET })).status).toBe(204);
  expect((await owner.put(`/connections/${bundle}/basic/credential`, { secret: BASIC_SECRET })).status).toBe(204);
  const s = await requestSession(orchKey, { workspace: WS, channel: "C0PROXY" });
  expect(s.status).toBe(201);
  token = s.json.token;
  sessionId = s.json.id;
  gatehouseCa = s.json.caCertPem;
  expect(gatehouseCa).toContain("BEGIN CERTIFICATE");
  caBundle = path.join(tmp, "ca-bundle.pem");
  fs.writeFileSync(caBundle, `${gatehouseCa.trim()}\n${state.upstreamCaPem.trim()}\n`);
});

test.afterAll(async () => {
  await up.close();
});

test("the CA certificate is public at /api/v1/ca.pem, matches the session's, and downloads from Settings with its fingerprint", async ({ page }) => {
  const res = await fetch(`${state.baseURL}/api/v1/ca.pem`);
  expect(res.status).toBe(200);
  expect((await res.text()).trim()).toBe(gatehouseCa.trim());

  await new SignInPage(page).signInOk(state.owner.email, state.owner.password);
  await page.goto(`${state.baseURL}/settings`);
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
  const r = await curl(["-H", `X-Leak: ${token}`, "-H", "Proxy-Connection: keep-alive", "-H", "Via: 1.0 sandbox-cache", httpUrl("REGISTRY.gh.test.", "/allow/plain?q=1")]);
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
  expect(ev).toMatchObject({ action: "egress.request", outcome: "blocked", rule: "default:block", path: "/blocked/path", host: "other.gh.test", member: "U0ALICE", status: 403 });
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
  expect(ev).toMatchObject({ action: "egress.request", outcome: "credentialed", connection: "github", serviceAccount: "claude-agent@acme.example", bundle });
  // The credential's last use reaches the database through the journal, moments later.
  const lastUsed = () => readDb((db) => db.prepare("SELECT last_used_at FROM credentials WHERE identity = ?").pluck().get(`${bundle}/github`) as number | null) ?? 0;
  await expect.poll(lastUsed, { timeout: 5000 }).toBeGreaterThanOrEqual(before);
});

test("traffic on a session moves its last_seen_at forward, through the journal", async () => {
  const s = await requestSession(orchKey, { workspace: WS, channel: "C0SEEN" });
  const lastSeen = () => readDb((db) => db.prepare("SELECT last_seen_at FROM sessions WHERE id = ?").pluck().get(s.json.id) as number);
  const granted = lastSeen();
  // A new session was seen when it was granted; the next touch is due 5 s later.
  await new Promise((r) => setTimeout(r, 5_100));
  const before = Date.now();
  expect((await curl([httpUrl("registry.gh.test", "/seen")], { token: s.json.token })).status).toBe(200);
  await expect.poll(lastSeen, { timeout: 5000 }).toBeGreaterThanOrEqual(before);
  expect(granted).toBeLessThan(before);
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
    await updatePolicy(ownerKey, (doc) => doc.bundles.find((b: { name: string }) => b.name === bundle).connections.find((c: { name: string }) => c.name === "keyed").allowedWebsites.push(`echo.gh.test:${port}`));
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
  for (const r of up.received.filter((x) => x.url.startsWith("/repos/acme-evil") || x.url.startsWith("/repos/other") || x.url.includes("slash") || x.url.includes("/post") || x.url.includes("override") || x.url.includes("dots"))) {
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
  for (const [method, type] of [["GET", "application/octet-stream"], ["GET", "image/png"], ["GET", ""], ["TRACE", "message/http"]] as const) {
    const r = await curl(["-X", method, httpsUrl("echo.gh.test", `/reflect/any?type=${encodeURIComponent(type)}`)]);
    expect(r.status, `${method} ${type}`).toBe(200);
    expect(r.headers["x-gatehouse-outcome"], `${method} ${type}`).toBe("credentialed");
    expect(r.body, `${method} ${type}`).toBe("you sent: [REDACTED] (and again: [REDACTED])");
    expect(r.headers["content-type"] ?? "", `${method} ${type}`).toBe(type);
    // Echoed as a header's name too: that header is dropped.
    expect(r.headers["x-echo-auth"]).toBe("[REDACTED]");
    expect(JSON.stringify(r.headers)).not.toContain(HEADER_SECRET);
  }
  expect(receivedAt("/reflect/any").map((x) => x.headers["x-api-key"])).toEqual([HEADER_SECRET, HEADER_SECRET, HEADER_SECRET, HEADER_SECRET]);
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
  expect(crypto.createHash("sha256").update(r.body).digest("hex")).toBe(crypto.createHash("sha256").update(Buffer.alloc(size, 7)).digest("hex"));
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
  expect(JSON.parse(unknown.body).error).toMatchObject({ code: "upstream_invalid_response", message: expect.stringContaining("zstd encoding") });
  expect(unknown.body).not.toContain(SECRET);
  // No body at all is not a corrupt one.
  const head = await curl(["-I", httpsUrl("api.gh.test", "/repos/acme/echo-packed/gzip")]);
  expect(head.status).toBe(200);
  const corrupt = await curl([httpsUrl("api.gh.test", "/repos/acme/echo-packed/corrupt-gzip")]);
  expect(corrupt.status).toBe(502);
  expect(JSON.parse(corrupt.body).error.message).toContain("compressed body is corrupt");
});

test("attacks on the target: userinfo, IP literals, trailing dots, SSRF to metadata", async () => {
  // curl moves userinfo into an Authorization header; a raw client can put it in the target.
  const userinfo = await raw(`GET http://user:pw@registry.gh.test:${up.httpPort}/attack/userinfo HTTP/1.1\r\nHost: registry.gh.test\r\nProxy-Authorization: Bearer ${token}\r\nConnection: close\r\n\r\n`);
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

test("a redirect to an unlisted host is not followed into the open", async () => {
  const target = `http://evil.gh.test:${up.httpPort}/redirected`;
  const r = await curl(["-L", httpsUrl("api.gh.test", `/repos/acme/redirect?to=${encodeURIComponent(target)}`)]);
  expect(r.status).toBe(403);
  expect(r.headers["x-gatehouse-outcome"]).toBe("blocked");
  expect(receivedAt("/redirected")).toHaveLength(0);
});

test("SNI and inner Host must equal the CONNECT target", async () => {
  const connect = async () => {
    const socket = net.connect(state.proxyPort, "127.0.0.1");
    await new Promise((r) => socket.once("connect", r));
    socket.write(`CONNECT api.gh.test:${up.httpsPort} HTTP/1.1\r\nHost: api.gh.test:${up.httpsPort}\r\nProxy-Authorization: Bearer ${token}\r\n\r\n`);
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
  expect(response).toMatch(/^HTTP\/1\.1 403/);
  expect(response).toContain("host_mismatch");
  expect(receivedAt("/repos/acme/hostswap")).toHaveLength(0);
});

/** Sends bytes as they are and returns what came back before the proxy closed (or `waitMs` passed). */
async function raw(request: string, waitMs = 3000): Promise<string> {
  const socket = net.connect(state.proxyPort, "127.0.0.1");
  await new Promise((r) => socket.once("connect", r));
  socket.write(request);
  return new Promise((resolve) => {
    let text = "";
    socket.on("data", (d: Buffer) => (text += d.toString()));
    socket.on("close", () => resolve(text));
    setTimeout(() => {
      socket.destroy();
      resolve(text);
    }, waitMs);
  });
}

test("smuggling shapes and oversized headers are refused; the process keeps running", async () => {
  const auth = `Proxy-Authorization: Bearer ${token}\r\n`;
  const base = `http://registry.gh.test:${up.httpPort}/smuggle`;
  const both = await raw(`POST ${base} HTTP/1.1\r\nHost: registry.gh.test\r\n${auth}Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`);
  expect(both).toMatch(/^HTTP\/1\.1 400/);
  const dupe = await raw(`POST ${base} HTTP/1.1\r\nHost: registry.gh.test\r\n${auth}Content-Length: 4\r\nContent-Length: 4\r\n\r\nabcd`);
  expect(dupe).toMatch(/^HTTP\/1\.1 400/);
  const huge = await raw(`GET ${base} HTTP/1.1\r\nHost: registry.gh.test\r\n${auth}X-Big: ${"a".repeat(40_000)}\r\n\r\n`);
  expect(huge).toMatch(/^HTTP\/1\.1 431/);
  const many = await raw(`GET ${base} HTTP/1.1\r\nHost: registry.gh.test\r\n${auth}${Array.from({ length: 120 }, (_, i) => `X-H${i}: 1\r\n`).join("")}Connection: close\r\n\r\n`);
  expect(many).toMatch(/^HTTP\/1\.1 431/);
  const garbage = await raw("NOT HTTP AT ALL\r\n\r\n");
  expect(garbage).toMatch(/^HTTP\/1\.1 400/);
  expect(receivedAt("/smuggle")).toHaveLength(0);
  expect((await curl([httpUrl("registry.gh.test", "/still-alive")])).status).toBe(200);
});

test("a request body reaches the upstream whole: on a reused upstream connection, in pieces, and after Expect: 100-continue", async () => {
  // One client connection (so one proxy worker, one upstream pool): a GET leaves an idle
  // upstream connection behind, then POSTs reuse it, their bodies split around a pause.
  const socket = net.connect(state.proxyPort, "127.0.0.1");
  await new Promise((r) => socket.once("connect", r));
  let received = "";
  socket.on("data", (d: Buffer) => (received += d.toString()));
  const responses = (n: number) => expect.poll(() => received.split("HTTP/1.1 ").length - 1, { timeout: 8000 }).toBe(n);
  const auth = `Proxy-Authorization: Bearer ${token}\r\n`;
  socket.write(`GET http://registry.gh.test:${up.httpPort}/body/warm HTTP/1.1\r\nHost: registry.gh.test\r\n${auth}\r\n`);
  await responses(1);
  for (const [i, parts] of [["hello ", "world"], ["", "hello world"], ["hello world", ""]].entries()) {
    await new Promise((r) => setTimeout(r, 50));
    socket.write(`POST http://registry.gh.test:${up.httpPort}/body/${i} HTTP/1.1\r\nHost: registry.gh.test\r\n${auth}Content-Length: 11\r\n\r\n${parts[0]}`);
    await new Promise((r) => setTimeout(r, 200));
    if (parts[1]) socket.write(parts[1]);
    await responses(i + 2);
    expect(receivedAt(`/body/${i}`).map((r) => r.body)).toEqual(["hello world"]);
  }
  expect(received.match(/HTTP\/1\.1 \d{3}/g)).toEqual(Array(4).fill("HTTP/1.1 200"));
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
    await updatePolicy(ownerKey, (doc) => doc.bundles.find((b: { name: string }) => b.name === bundle).domains.push(`registry.gh.test:${port}`));
    // One client connection: one proxy worker, one upstream pool.
    const socket = net.connect(state.proxyPort, "127.0.0.1");
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
    socket.destroy();
    expect(statuses()).toEqual([200, 200, 502]);
    expect(seen).toEqual(["GET /first HTTP/1.1", "GET /second HTTP/1.1", "GET /second HTTP/1.1", "POST /third HTTP/1.1"]);
  } finally {
    forgetful.close();
  }
});

// The e2e server runs with GATEHOUSE_PROXY_TIMEOUTS connect, request-headers, response-headers
// and idle at 3 s, request at 6 s (e2e/global-setup.ts).
const elapsedSince = (started: number) => Date.now() - started;

test("a sandbox that sends its headers or its body too slowly gets 408 with a reason; the process keeps serving", async () => {
  const auth = `Proxy-Authorization: Bearer ${token}\r\n`;
  let started = Date.now();
  const slowHeaders = await raw(`GET http://registry.gh.test:${up.httpPort}/slow-headers HTTP/1.1\r\nHost: registry.gh.test\r\n${auth}X-Still-Typing: `, 15_000);
  expect(slowHeaders).toMatch(/^HTTP\/1\.1 408/);
  expect(JSON.parse(slowHeaders.slice(slowHeaders.indexOf("\r\n\r\n") + 4)).error).toMatchObject({ code: "request_timeout", message: expect.stringContaining("headers within 3 s") });
  expect(elapsedSince(started)).toBeGreaterThanOrEqual(2_900);
  expect(elapsedSince(started)).toBeLessThan(10_000);

  // Headers complete, then a body that stops short: the whole-request timeout ends it, and
  // the upstream's half-received request is abandoned.
  started = Date.now();
  const slowBody = await raw(`POST http://registry.gh.test:${up.httpPort}/slow-body HTTP/1.1\r\nHost: registry.gh.test\r\n${auth}Content-Length: 100\r\n\r\nonly ten b`, 20_000);
  expect(slowBody).toMatch(/^HTTP\/1\.1 408/);
  expect(elapsedSince(started)).toBeGreaterThanOrEqual(5_900);
  expect(elapsedSince(started)).toBeLessThan(15_000);
  expect(receivedAt("/slow-headers")).toHaveLength(0);
  expect(receivedAt("/slow-body")).toHaveLength(0); // the echo server answers only a complete body
  expect((await curl([httpUrl("registry.gh.test", "/after-slow-clients")])).status).toBe(200);
});

test("a connection that stays silent before its first request is closed after the request-header timeout, intercepted tunnels too", async () => {
  const closedAfter = (socket: net.Socket) => {
    const t0 = Date.now();
    return new Promise<number>((resolve) => socket.once("close", () => resolve(Date.now() - t0)));
  };
  const connectTo = async (host: string) => {
    const socket = net.connect(state.proxyPort, "127.0.0.1");
    await new Promise((r) => socket.once("connect", r));
    socket.write(`CONNECT ${host}:${up.httpsPort} HTTP/1.1\r\nProxy-Authorization: Bearer ${token}\r\n\r\n`);
    expect(await new Promise<string>((r) => socket.once("data", (d: Buffer) => r(d.toString())))).toMatch(/^HTTP\/1\.1 200/);
    return socket;
  };
  const silent = net.connect(state.proxyPort, "127.0.0.1");
  const noHandshake = await connectTo("api.gh.test");
  const noRequest = tls.connect({ socket: await connectTo("api.gh.test"), servername: "api.gh.test", ca: gatehouseCa });
  await new Promise((r) => noRequest.once("secureConnect", r));
  for (const ms of await Promise.all([closedAfter(silent), closedAfter(noHandshake), closedAfter(noRequest)])) {
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
    expect((await auditEventsFor(requestId))[0]).toMatchObject({ path: url.startsWith("https") ? "/repos/acme/stall-headers" : "/stall-headers/plain" });
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
  const blackhole = spawn("python3", ["-c", [
    "import socket, time",
    "s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen(0); port = s.getsockname()[1]",
    "held = []",
    "while True:",
    "    c = socket.socket(); c.settimeout(0.5)",
    "    try: c.connect(('127.0.0.1', port)); held.append(c)",
    "    except OSError: break",
    "print(port, flush=True); time.sleep(60)",
  ].join("\n")]);
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

test("an upstream that breaks HTTP gets the sandbox a 502 upstream_invalid_response with the reason; 1xx answers are skipped; the process keeps serving", async () => {
  const bad = await startMalformedUpstream();
  try {
    await updatePolicy(ownerKey, (doc) => doc.bundles.find((b: { name: string }) => b.name === bundle).domains.push(`registry.gh.test:${bad.port}`));
    const via = (p: string) => curl([`http://registry.gh.test:${bad.port}${p}`]);
    for (const p of Object.keys(MALFORMED_ANSWERS).filter((x) => !["/early-hints", "/forged-outcome"].includes(x))) {
      const r = await via(p);
      expect(r.status, p).toBe(502);
      expect(JSON.parse(r.body).error, p).toMatchObject({ code: "upstream_invalid_response", message: expect.stringMatching(/^the upstream's answer was not valid HTTP: ./) });
      expect(r.headers["x-gatehouse-outcome"], p).toBe("allowlisted");
    }
    const hinted = await via("/early-hints");
    expect([hinted.status, hinted.body]).toEqual([200, "final"]);
    // Dropped, not passed on: an HTTP/1.1 client like Python's http.client would take it for the answer.
    const rawHinted = await raw(`GET http://registry.gh.test:${bad.port}/early-hints HTTP/1.1\r\nHost: registry.gh.test\r\nProxy-Authorization: Bearer ${token}\r\nConnection: close\r\n\r\n`);
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

test("Domains-only hosts are tunnelled blind, with the ClientHello's SNI checked", async () => {
  const r = await curl([httpsUrl("registry.gh.test", "/blind/ok")]);
  expect(r.status, r.stderr).toBe(200);
  expect(receivedAt("/blind/ok")[0]!.servername).toBe("registry.gh.test");
  // The upstream's own certificate reached the client: no interception happened.
  const socket = net.connect(state.proxyPort, "127.0.0.1");
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

test("a blind tunnel whose client never sends a ClientHello is closed after the timeout, and recorded", async () => {
  const socket = net.connect(state.proxyPort, "127.0.0.1");
  await new Promise((res) => socket.once("connect", res));
  const started = Date.now();
  socket.write(`CONNECT registry.gh.test:${up.httpsPort} HTTP/1.1\r\nProxy-Authorization: Bearer ${token}\r\n\r\n`);
  const head = await new Promise<string>((res) => socket.once("data", (d: Buffer) => res(d.toString())));
  expect(head).toMatch(/^HTTP\/1\.1 200/);
  const requestId = /X-Gatehouse-Request-Id: (\S+)/.exec(head)![1]!;
  await new Promise((res) => socket.once("close", res));
  const waited = Date.now() - started;
  expect(waited).toBeGreaterThanOrEqual(9_000); // the client-hello timeout, 10 s by default
  expect(waited).toBeLessThan(20_000);
  const [ev] = await auditEventsFor(requestId);
  expect(ev).toMatchObject({ outcome: "blocked", rule: "tunnel:sni", reason: expect.stringContaining("timed out waiting for the ClientHello") });
});

test("the embedded route: same decision, injection and audit", async () => {
  const url = `${state.baseURL}/proxy/https/api.gh.test:${up.httpsPort}/repos/acme/embedded?x=1`;
  const res = await fetch(url, { headers: { "Proxy-Authorization": `Bearer ${token}` } });
  expect(res.status).toBe(200);
  expect(res.headers.get("x-gatehouse-outcome")).toBe("credentialed");
  const seen = receivedAt("/repos/acme/embedded")[0]!;
  expect(seen.headers.authorization).toBe(`Bearer ${SECRET}`);
  expect(seen.headers.host).toBe(`api.gh.test:${up.httpsPort}`);
  expect(seen.url).toBe("/repos/acme/embedded?x=1");
  expect(await res.text()).not.toContain(SECRET);
  // fetch() turns a 407 into a network error by design: ask with node:http instead.
  const status = await new Promise<number>((resolve, reject) => http.get(url, (r) => (r.resume(), resolve(r.statusCode ?? 0))).on("error", reject));
  expect(status).toBe(407);
  const blocked = await fetch(`${state.baseURL}/proxy/https/other.gh.test/x`, { headers: { "Proxy-Authorization": `Bearer ${token}` } });
  expect(blocked.status).toBe(403);
  expect(blocked.headers.get("x-gatehouse-outcome")).toBe("blocked");
  // A host whose percent-encoding is broken is a bad target, answered at once.
  const malformed = await fetch(`${state.baseURL}/proxy/http/%E0%A4%A/x`, { headers: { "Proxy-Authorization": `Bearer ${token}` }, signal: AbortSignal.timeout(5000) });
  expect(malformed.status).toBe(400);
  expect((await malformed.json()).error.code).toBe("bad_target");
});

test("a server-sent event stream through interception reaches the sandbox event by event, still redacted", async () => {
  const agent = new ProxyAgent({ uri: `http://127.0.0.1:${state.proxyPort}`, token: `Bearer ${token}`, requestTls: { ca: gatehouseCa } });
  const started = Date.now();
  const res = await undiciFetch(httpsUrl("api.gh.test", "/repos/acme/events"), { dispatcher: agent });
  expect(res.headers.get("x-gatehouse-outcome")).toBe("credentialed");
  const headAfter = Date.now() - started;
  const reader = res.body!.getReader();
  const arrivals: { at: number; text: string }[] = [];
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    arrivals.push({ at: Date.now() - started, text: Buffer.from(value).toString() });
  }
  const text = arrivals.map((a) => a.text).join("");
  expect(text).toBe('data: {"delta":"one"}\n\ndata: {"echo":"Bearer [REDACTED]"}\n\n');
  // The first event is whole long before the second is sent (1.5 s later).
  const firstWhole = arrivals.find((_, i) => arrivals.slice(0, i + 1).map((a) => a.text).join("").includes('"one"}\n\n'))!;
  expect(headAfter).toBeLessThan(1000);
  expect(firstWhole.at).toBeLessThan(1000);
  await agent.close();
});

test("Node's fetch through undici's ProxyAgent", async () => {
  const agent = new ProxyAgent({ uri: `http://127.0.0.1:${state.proxyPort}`, token: `Bearer ${token}`, requestTls: { ca: gatehouseCa } });
  const res = await undiciFetch(httpsUrl("api.gh.test", "/repos/acme/undici"), { dispatcher: agent });
  expect(res.status).toBe(200);
  expect(res.headers.get("x-gatehouse-outcome")).toBe("credentialed");
  expect(receivedAt("/repos/acme/undici")[0]!.headers.authorization).toBe(`Bearer ${SECRET}`);
  await agent.close();
});

test("Python requests through HTTP_PROXY / HTTPS_PROXY, unmodified", async () => {
  // The interpreter that has requests (.ci/run installs Debian's python3-requests if none does).
  const python = ["python3", "/usr/bin/python3"].find((p) => {
    try {
      return spawnSync(p, ["-c", "import requests"]).status === 0;
    } catch {
      return false;
    }
  });
  expect(python, "python3 with the requests package").toBeTruthy();
  const script = [
    "import json, sys, requests",
    "out = []",
    "for url in sys.argv[1:]:",
    "    r = requests.get(url, timeout=15)",
    "    out.append({'status': r.status_code, 'outcome': r.headers.get('x-gatehouse-outcome'), 'body': r.text})",
    "print(json.dumps(out))",
  ].join("\n");
  const proxy = `http://session:${token}@127.0.0.1:${state.proxyPort}`;
  const r = await run(python!, ["-c", script, httpsUrl("api.gh.test", "/repos/acme/python"), httpUrl("registry.gh.test", "/python/plain"), httpUrl("other.gh.test", "/python/blocked")], {
    env: { HTTP_PROXY: proxy, HTTPS_PROXY: proxy, NO_PROXY: "", no_proxy: "", REQUESTS_CA_BUNDLE: caBundle },
  });
  expect(r.status, r.stderr).toBe(0);
  const [credentialed, plain, blocked] = JSON.parse(r.stdout) as { status: number; outcome: string; body: string }[];
  expect(credentialed).toMatchObject({ status: 200, outcome: "credentialed" });
  expect(credentialed!.body).not.toContain(SECRET);
  expect(receivedAt("/repos/acme/python")[0]!.headers.authorization).toBe(`Bearer ${SECRET}`);
  expect(plain).toMatchObject({ status: 200, outcome: "allowlisted" });
  expect(blocked).toMatchObject({ status: 403, outcome: "blocked" });
  expect(receivedAt("/python/blocked")).toHaveLength(0);
});

test("WebSockets follow the same rules, without a credential attached", async () => {
  const agent = new ProxyAgent({ uri: `http://127.0.0.1:${state.proxyPort}`, token: `Bearer ${token}`, requestTls: { ca: gatehouseCa } });
  const ws = new UndiciWebSocket(`wss://api.gh.test:${up.httpsPort}/repos/acme/ws`, { dispatcher: agent } as never);
  const message = await new Promise<string>((resolve, reject) => {
    ws.addEventListener("open", () => ws.send("hello"));
    ws.addEventListener("message", (e) => resolve(String(e.data)));
    ws.addEventListener("error", () => reject(new Error("websocket failed")));
  });
  expect(message).toBe("echo:hello auth:none");
  // An open WebSocket may be quiet for longer than the first-request timeout (3 s here).
  await new Promise((r) => setTimeout(r, 3_500));
  const later = await new Promise<string>((resolve, reject) => {
    ws.addEventListener("message", (e) => resolve(String(e.data)), { once: true });
    ws.addEventListener("close", () => reject(new Error("the quiet WebSocket was closed")), { once: true });
    ws.send("still there");
  });
  expect(later).toBe("echo:still there auth:none");
  ws.close();
  const seen = receivedAt("/repos/acme/ws")[0]!;
  expect(seen.headers.host).toBe(`api.gh.test:${up.httpsPort}`);
  expect(seen.headers.authorization).toBeUndefined();
  expect(JSON.stringify(seen.headers)).not.toContain(token);
  // A blocked host cannot be reached by upgrading either.
  const blocked = await raw(`GET http://other.gh.test:${up.httpPort}/ws HTTP/1.1\r\nHost: other.gh.test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nProxy-Authorization: Bearer ${token}\r\n\r\n`);
  expect(blocked).toMatch(/^HTTP\/1\.1 403/);
  // Plain ws:// to an allowlisted host through the forward proxy.
  const allowed = await raw(`GET http://registry.gh.test:${up.httpPort}/plain/ws HTTP/1.1\r\nHost: registry.gh.test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nProxy-Authorization: Bearer ${token}\r\n\r\n`);
  expect(allowed).toMatch(/^HTTP\/1\.1 101/);
  expect(allowed).toContain("X-Gatehouse-Outcome: allowlisted");
  await agent.close();
});

/** A WebSocket opened by hand inside a CONNECT tunnel, with the ids Gatehouse gave both. */
async function webSocketThroughTunnel(host: string, ca: string, wsPath: string) {
  const socket = net.connect(state.proxyPort, "127.0.0.1");
  await new Promise((res) => socket.once("connect", res));
  socket.write(`CONNECT ${host}:${up.httpsPort} HTTP/1.1\r\nProxy-Authorization: Bearer ${token}\r\n\r\n`);
  const connectHead = await new Promise<string>((res) => socket.once("data", (d: Buffer) => res(d.toString("latin1"))));
  expect(connectHead).toMatch(/^HTTP\/1\.1 200/);
  const secure = tls.connect({ socket, servername: host, ca });
  await new Promise((res, rej) => secure.once("secureConnect", res).once("error", rej));
  secure.write(`GET ${wsPath} HTTP/1.1\r\nHost: ${host}:${up.httpsPort}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`);
  const upgradeHead = await new Promise<string>((res) => secure.once("data", (d: Buffer) => res(d.toString("latin1"))));
  expect(upgradeHead).toMatch(/^HTTP\/1\.1 101/);
  const closed = new Promise<number>((res) => secure.once("close", () => res(Date.now())));
  secure.on("error", () => undefined);
  return {
    tunnelId: /X-Gatehouse-Request-Id: (\S+)/i.exec(connectHead)?.[1],
    upgradeId: /X-Gatehouse-Request-Id: (\S+)/i.exec(upgradeHead)?.[1],
    closed,
    /** One masked text frame out, the echo back. */
    echo: (text: string) =>
      new Promise<string>((res) => {
        const mask = crypto.randomBytes(4);
        const payload = Buffer.from(Buffer.from(text).map((b, i) => b ^ mask[i % 4]!));
        secure.once("data", (d: Buffer) => res(d.subarray(2).toString()));
        secure.write(Buffer.concat([Buffer.from([0x81, 0x80 | payload.length]), mask, payload]));
      }),
  };
}

test("a blind tunnel and a WebSocket stay open while bytes move, and are closed after tunnel-idle of silence, recorded", async () => {
  // tunnel-idle is 6 s on the e2e server (e2e/global-setup.ts).
  const blind = await webSocketThroughTunnel("registry.gh.test", state.upstreamCaPem, "/idle/blind-ws");
  const intercepted = await webSocketThroughTunnel("api.gh.test", gatehouseCa, "/repos/acme/idle-ws");
  expect(blind.tunnelId).toBeTruthy();
  expect(intercepted.upgradeId).toBeTruthy();
  let lastTraffic = 0;
  // 9 s of a message every 1.5 s: longer than tunnel-idle, never silent for that long.
  for (let i = 0; i < 6; i++) {
    expect(await blind.echo(`b${i}`)).toBe(`echo:b${i} auth:none`);
    expect(await intercepted.echo(`i${i}`)).toBe(`echo:i${i} auth:none`);
    lastTraffic = Date.now();
    await new Promise((r) => setTimeout(r, 1_500));
  }
  const [blindClosed, interceptedClosed] = await Promise.all([blind.closed, intercepted.closed]);
  for (const at of [blindClosed, interceptedClosed]) {
    expect(at - lastTraffic).toBeGreaterThanOrEqual(5_500);
    expect(at - lastTraffic).toBeLessThan(12_000);
  }
  for (const id of [blind.tunnelId!, intercepted.upgradeId!]) {
    const events = await auditEventsFor(id);
    expect(events.map((e) => e.reason)).toContainEqual("closed after 6 s without traffic in either direction");
    expect(events.some((e) => e.bytesIn > 0 && e.bytesOut > 0)).toBe(true);
  }
});

test("the egress event is durable before the first byte goes upstream, and completed with status, bytes and duration", async () => {
  // What is on disk (journal or chain) at the moment the upstream sees the request.
  const onDisk = () => {
    const dir = path.join(state.dataDir, "journal");
    const journal = fs.readdirSync(dir).map((f) => fs.readFileSync(path.join(dir, f), "utf8")).join("");
    const chain = readDb((db) => JSON.stringify(db.prepare("SELECT request_id, path FROM audit_events WHERE path = ?").all("/repos/acme/durable")));
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
  const events = await auditEventsFor(r.headers["x-gatehouse-request-id"]!);
  const status = events.map((e) => e.status).find((s) => s !== null);
  expect(status).toBe(200);
  expect(events.find((e) => e.status === 200)!.bytesIn).toBeGreaterThan(10);
  expect(events.find((e) => e.status === 200)!.durationMs).toBeGreaterThanOrEqual(0);
});

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
    const socket = net.connect(state.proxyPort, "127.0.0.1");
    await new Promise((r) => socket.once("connect", r));
    socket.write(request);
    const head = await new Promise<string>((r) => socket.once("data", (d: Buffer) => r(d.toString())));
    expect(head).toMatch(answered);
    return socket;
  };
  const sockets = [
    await opened(`CONNECT api.gh.test:${up.httpsPort} HTTP/1.1\r\n${auth}\r\n`, /^HTTP\/1\.1 200/),
    await opened(`GET http://registry.gh.test:${up.httpPort}/live/keep-alive HTTP/1.1\r\nHost: registry.gh.test\r\n${auth}\r\n`, /^HTTP\/1\.1 200/),
    await opened(`GET http://registry.gh.test:${up.httpPort}/live/ws HTTP/1.1\r\nHost: registry.gh.test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n${auth}\r\n`, /^HTTP\/1\.1 101/),
  ];
  const t0 = Date.now();
  const closed = sockets.map((socket) => new Promise<number>((resolve) => socket.once("close", () => resolve(Date.now() - t0))));
  expect((await api(orchKey).delete(`/sessions/${s.json.id}`)).status).toBe(204);
  for (const ms of await Promise.all(closed)) expect(ms).toBeLessThan(3000);
  const after = await curl([httpUrl("registry.gh.test", "/live/revoked")], { token: s.json.token });
  expect(after.status).toBe(407);
  expect(JSON.parse(after.body).error.code).toBe("session_revoked");
});

test("a running Gatehouse follows vault rotate-key: credentials keep attaching, new ones seal under the new key", async () => {
  const probe = async (p: string) => {
    const r = await curl([httpsUrl("api.gh.test", p)]);
    return { outcome: r.headers["x-gatehouse-outcome"], auth: receivedAt(p)[0]?.headers.authorization };
  };
  expect(await probe("/repos/acme/rotate-before")).toEqual({ outcome: "credentialed", auth: `Bearer ${SECRET}` });
  const keyBefore = fs.readFileSync(path.join(state.dataDir, "master.key"), "utf8");
  const rotated = cli(["vault", "rotate-key"]);
  expect(rotated.code, rotated.stderr).toBe(0);
  expect(fs.readFileSync(path.join(state.dataDir, "master.key"), "utf8")).not.toBe(keyBefore);
  // The proxy workers open the re-sealed credential with the new key, without a restart.
  expect(await probe("/repos/acme/rotate-after")).toEqual({ outcome: "credentialed", auth: `Bearer ${SECRET}` });
  // The dashboard process seals a replaced credential under the new key too; the proxy uses it.
  expect((await api(ownerKey).put(`/connections/${bundle}/github/credential`, { secret: `${SECRET}_v2` })).status).toBe(204);
  expect(await probe("/repos/acme/rotate-replaced")).toEqual({ outcome: "credentialed", auth: `Bearer ${SECRET}_v2` });
  expect((await api(ownerKey).put(`/connections/${bundle}/github/credential`, { secret: SECRET })).status).toBe(204);
  expect(await probe("/repos/acme/rotate-restored")).toEqual({ outcome: "credentialed", auth: `Bearer ${SECRET}` });
});

test("git clone and git push over HTTPS (smart HTTP) through the proxy, the credential attached at the boundary", async () => {
  const work = path.join(tmp, "work");
  const projects = path.join(tmp, "git-projects");
  const repo = path.join(projects, "app.git");
  const sh = async (cmd: string, args: string[], cwd?: string, env: Record<string, string> = {}) => {
    const r = await run(cmd, args, { cwd, env: { GIT_TERMINAL_PROMPT: "0", GIT_CONFIG_NOSYSTEM: "1", ...env } });
    expect(r.status, `${cmd} ${args.join(" ")}\n${r.stderr}`).toBe(0);
    return r;
  };
  const commit = (cwd: string, message: string) => sh("git", ["-c", "user.email=t@t", "-c", "user.name=t", "commit", "-qm", message], cwd);
  await sh("git", ["init", "-q", "-b", "main", work]);
  fs.writeFileSync(path.join(work, "README.md"), "hello through gatehouse\n");
  await sh("git", ["add", "."], work);
  await commit(work, "readme");
  fs.mkdirSync(projects);
  await sh("git", ["clone", "-q", "--bare", work, repo]);

  // git's own smart-HTTP server (git http-backend, run as CGI) behind Basic auth.
  const pushes: string[] = [];
  const { createServer } = await import("node:https");
  const gitServer = createServer({ cert: fs.readFileSync(path.join(state.upstreamCertDir, "leaf.pem")), key: fs.readFileSync(path.join(state.upstreamCertDir, "leaf.key")) }, (req, res) => {
    if (req.headers.authorization !== `Basic ${Buffer.from(`bot:${BASIC_SECRET}`).toString("base64")}`) {
      res.writeHead(401, { "www-authenticate": 'Basic realm="git"' });
      return res.end();
    }
    const url = new URL(req.url ?? "/", "http://x");
    if (url.pathname.endsWith("/git-receive-pack")) pushes.push(`${req.method} ${req.headers["transfer-encoding"] ?? req.headers["content-length"]}`);
    const cgi = spawn("git", ["http-backend"], {
      env: {
        ...process.env,
        GIT_PROJECT_ROOT: projects,
        GIT_HTTP_EXPORT_ALL: "1",
        REMOTE_USER: "bot",
        REMOTE_ADDR: "127.0.0.1",
        PATH_INFO: url.pathname.replace(/^\/acme/, ""),
        QUERY_STRING: url.search.slice(1),
        REQUEST_METHOD: req.method ?? "GET",
        CONTENT_TYPE: req.headers["content-type"] ?? "",
        HTTP_CONTENT_ENCODING: req.headers["content-encoding"] ?? "",
      },
    });
    req.pipe(cgi.stdin);
    let head = Buffer.alloc(0);
    let headDone = false;
    cgi.stdout.on("data", (chunk: Buffer) => {
      if (headDone) return void res.write(chunk);
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf("\r\n\r\n");
      if (end < 0) return;
      headDone = true;
      const headers: Record<string, string> = {};
      let status = 200;
      for (const line of head.subarray(0, end).toString().split("\r\n")) {
        const [k, ...v] = line.split(":");
        if (k!.toLowerCase() === "status") status = Number.parseInt(v.join(":").trim(), 10);
        else headers[k!] = v.join(":").trim();
      }
      res.writeHead(status, headers);
      res.write(head.subarray(end + 4));
    });
    cgi.stdout.on("end", () => res.end());
  });
  await new Promise<void>((r) => gitServer.listen(0, "127.0.0.1", r));
  try {
    const gitPort = (gitServer.address() as net.AddressInfo).port;
    await updatePolicy(ownerKey, (doc) => doc.bundles.find((b: { name: string }) => b.name === bundle).connections.find((c: { name: string }) => c.name === "basic").allowedWebsites.push(`git.gh.test:${gitPort}`));
    const proxy = `http://session:${token}@127.0.0.1:${state.proxyPort}`;
    const viaProxy = { HTTPS_PROXY: proxy, https_proxy: proxy, GIT_SSL_CAINFO: caBundle, NO_PROXY: "", no_proxy: "" };
    const dest = path.join(tmp, "clone");
    await sh("git", ["clone", "-q", `https://git.gh.test:${gitPort}/acme/app.git`, dest], undefined, viaProxy);
    expect(fs.readFileSync(path.join(dest, "README.md"), "utf8")).toBe("hello through gatehouse\n");

    // A push with a pack large enough that git streams it (chunked), as an agent's push would.
    fs.writeFileSync(path.join(dest, "data.bin"), crypto.randomBytes(3 * 1024 * 1024));
    fs.writeFileSync(path.join(dest, "NOTES.md"), "pushed by the agent\n");
    await sh("git", ["add", "."], dest);
    await commit(dest, "agent change");
    await sh("git", ["push", "-q", "origin", "main"], dest, viaProxy);
    const pushed = await sh("git", ["--git-dir", repo, "log", "-1", "--format=%s", "main"]);
    expect(pushed.stdout.trim()).toBe("agent change");
    expect(pushes.some((p) => p.startsWith("POST chunked"))).toBe(true);
    // The sandbox's clone holds no credential.
    expect(fs.readFileSync(path.join(dest, ".git", "config"), "utf8")).not.toContain(BASIC_SECRET);
  } finally {
    gitServer.close();
  }
});

test("a session's open connections are bounded per proxy worker; closing them frees the slots", async () => {
  const s = await requestSession(orchKey, { workspace: WS, channel: "C0CAP" });
  const capToken = s.json.token as string;
  const open: net.Socket[] = [];
  // Tunnels held open waiting for their ClientHello; each counts against the session.
  const tunnel = () =>
    new Promise<{ socket: net.Socket; status: number }>((resolve) => {
      const socket = net.connect(state.proxyPort, "127.0.0.1", () => socket.write(`CONNECT registry.gh.test:${up.httpsPort} HTTP/1.1\r\nProxy-Authorization: Bearer ${capToken}\r\n\r\n`));
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
  await expect.poll(async () => (await tunnel().then((t) => (t.socket.destroy(), t.status))), { timeout: 5000 }).toBe(200);
});

/** The forward-proxy worker processes under the server `npm start` started. */
function proxyWorkers(): number[] {
  const found: number[] = [];
  const walk = (pid: number) => {
    let children: string[] = [];
    try {
      children = fs.readdirSync(`/proc/${pid}/task`).flatMap((t) => fs.readFileSync(`/proc/${pid}/task/${t}/children`, "utf8").split(" ").filter(Boolean));
    } catch {
      return;
    }
    for (const c of children.map(Number)) {
      if (fs.readFileSync(`/proc/${c}/cmdline`, "utf8").includes("forward-process")) found.push(c);
      walk(c);
    }
  };
  walk(state.pid);
  return found;
}

test("a proxy worker that dies is replaced, the others keep serving, and its journal still reaches the chain", async () => {
  const workers = proxyWorkers();
  expect(workers.length).toBeGreaterThanOrEqual(1);
  const s = await requestSession(orchKey, { workspace: WS, channel: "C0CRASH" });
  const crashToken = s.json.token as string;
  const victim = workers[0]!;
  const victimJournal = () => fs.readdirSync(path.join(state.dataDir, "journal")).filter((f) => f.startsWith(`egress-${victim}-`));
  // Traffic until the victim has journaled something of its own.
  const victimServed = () => victimJournal().some((f) => fs.statSync(path.join(state.dataDir, "journal", f)).size > 0);
  for (let i = 0; i < 40 && !victimServed(); i++) {
    expect((await curl([httpUrl("registry.gh.test", `/crash/before/${i}`)], { token: crashToken })).status).toBe(200);
  }
  expect(victimServed()).toBe(true);
  process.kill(victim, "SIGKILL");
  // Requests keep working while a replacement starts.
  for (let i = 0; i < 5; i++) expect((await curl([httpUrl("registry.gh.test", `/crash/after/${i}`)], { token: crashToken })).status).toBe(200);
  await expect.poll(() => proxyWorkers().filter((p) => p !== victim).length, { timeout: 30_000 }).toBe(workers.length);
  await expect.poll(() => fs.readFileSync(state.logFile, "utf8").includes(`proxy worker ${victim} exited (SIGKILL); starting another`)).toBe(true);
  // The dead worker's journal is imported and removed; every request it served is in the log.
  await expect.poll(() => victimJournal().length, { timeout: 10_000 }).toBe(0);
  const r = await api(ownerKey).get(`/audit?q=${encodeURIComponent("/crash/")}&limit=200`);
  const paths = new Set((r.json.events as { path: string }[]).map((e) => e.path));
  for (const p of [...receivedAt("/crash/")].map((x) => x.url)) expect(paths).toContain(p);
});

test("the upstream never saw a token, and the sandbox never saw a secret", async () => {
  for (const r of up.received) {
    expect(JSON.stringify(r.headers)).not.toContain(token);
    expect(r.headers["proxy-authorization"]).toBeUndefined();
  }
  const log = fs.readFileSync(state.logFile, "utf8");
  for (const s of [SECRET, HEADER_SECRET, BASIC_SECRET, token]) expect(log).not.toContain(s);
  const journalDir = path.join(state.dataDir, "journal");
  const journal = fs.readdirSync(journalDir).map((f) => fs.readFileSync(path.join(journalDir, f), "utf8")).join("");
  const audit = readDb((db) => JSON.stringify(db.prepare("SELECT * FROM audit_events").all())) + journal;
  for (const s of [SECRET, HEADER_SECRET, BASIC_SECRET, token]) expect(audit).not.toContain(s);
  expect(sessionId).toMatch(/^ses_/);
});
