// GATEHOUSE_UPSTREAM_PROXY with Squid as the company's proxy, demanding Basic credentials: every
// upstream is reached through it (CONNECT, as its access log shows, under the configured user),
// except GATEHOUSE_UPSTREAM_NO_PROXY hosts; decisions, credentials, redaction and audit are as
// without it; what the SSRF guard can check without DNS is still refused; the parent's password
// appears nowhere.
import fs from "node:fs";
import { expect, test } from "@playwright/test";
import { TEST_HOSTS } from "./fixtures/hosts";
import { checkLogClean } from "./fixtures/logs";
import {
  auditEventsFor,
  bundle,
  curl,
  expectNoSecretCrossed,
  gatehouseCa,
  gh,
  httpsUrl,
  httpUrl,
  ownerKey,
  proxySuite,
  readDb,
  receivedAt,
  SECRET,
  up,
  updatePolicy,
  webSocketThroughTunnel,
} from "./fixtures/proxy-suite";
import { startSquid, type Squid } from "./fixtures/squid";

const PARENT_USER = "gatehouse-egress";
const PARENT_PASSWORD = "parent-proxy-password-not-real-77";
let squid: Squid;

test.beforeAll(async () => {
  squid = await startSquid({ hosts: TEST_HOSTS, auth: { user: PARENT_USER, password: PARENT_PASSWORD } });
});
test.afterAll(async () => {
  await squid?.close();
});

// Squid resolves the test names (its hosts file); Gatehouse only resolves echo.gh.test, which it
// reaches directly, and meta.gh.test, which stands for a name set to the metadata address.
proxySuite({
  env: () => ({
    GATEHOUSE_UPSTREAM_PROXY: squid.url,
    GATEHOUSE_UPSTREAM_NO_PROXY: "echo.gh.test",
    GATEHOUSE_RESOLVE: "echo.gh.test=127.0.0.1,meta.gh.test=169.254.169.254",
  }),
});

/** Squid writes a CONNECT's line when the tunnel closes (Gatehouse keeps connections alive a while). */
async function squidSaw(authority: string): Promise<void> {
  await expect
    .poll(
      () =>
        squid
          .lines()
          .filter((l) => l.method === "CONNECT" && l.url === authority)
          .map((l) => `${l.status} ${l.user}`),
      { timeout: 30_000 },
    )
    .toContain(`200 ${PARENT_USER}`);
}

test("plain HTTP, intercepted HTTPS with a credential and a blind tunnel all go through the parent, decided and audited as ever", async () => {
  const plain = await curl([httpUrl("registry.gh.test", "/via-parent?q=1")]);
  expect(plain.status).toBe(200);
  expect(plain.headers["x-gatehouse-outcome"]).toBe("allowlisted");

  const credentialed = await curl([httpsUrl("api.gh.test", "/repos/acme/via-parent")]);
  expect(credentialed.status).toBe(200);
  expect(credentialed.headers["x-gatehouse-outcome"]).toBe("credentialed");
  // The credential was attached at the boundary and reached the upstream through the tunnel.
  expect(receivedAt("/repos/acme/via-parent")[0]!.headers.authorization).toBe(`Bearer ${SECRET}`);
  expect(receivedAt("/repos/acme/via-parent")[0]!.servername).toBe("api.gh.test");

  const blind = await curl([httpsUrl("registry.gh.test", "/blind-via-parent")]);
  expect(blind.status).toBe(200);

  // The completion (status) may reach the chain a moment after the request's record.
  const requestId = credentialed.headers["x-gatehouse-request-id"]!;
  await expect.poll(async () => (await auditEventsFor(requestId)).at(-1)?.status, { timeout: 15_000 }).toBe(200);
  expect((await auditEventsFor(requestId))[0]).toMatchObject({
    outcome: "credentialed",
    host: "api.gh.test",
    path: "/repos/acme/via-parent",
    bundle,
    connection: "github",
  });

  await squidSaw(`registry.gh.test:${up.httpPort}`);
  await squidSaw(`api.gh.test:${up.httpsPort}`);
  await squidSaw(`registry.gh.test:${up.httpsPort}`);
});

test("a WebSocket inside an intercepted tunnel reaches its upstream through the parent", async () => {
  const ws = await webSocketThroughTunnel("api.gh.test", gatehouseCa, "/repos/acme/ws-via-parent");
  expect(await ws.echo("hello")).toContain("hello");
});

test("GATEHOUSE_UPSTREAM_NO_PROXY hosts are dialled directly: the parent never sees them", async () => {
  const r = await curl(["-H", "X-Probe: no-proxy", httpsUrl("echo.gh.test", "/no-proxy")]);
  expect(r.status).toBe(200);
  expect(r.headers["x-gatehouse-outcome"]).toBe("credentialed");
  // Other traffic's lines arrive meanwhile; none names echo.gh.test.
  await squidSaw(`api.gh.test:${up.httpsPort}`);
  expect(squid.lines().filter((l) => l.url.includes("echo.gh.test"))).toEqual([]);
});

test("blocked hosts, IP literals and names outside the permitted ranges, and private names never reach the parent", async () => {
  await updatePolicy(ownerKey, (doc) =>
    doc.bundles
      .find((b: { name: string }) => b.name === bundle)
      .domains.push(`169.254.169.254:${up.httpPort}`, `db.internal:${up.httpPort}`, `wiki:${up.httpPort}`),
  );
  const blocked = await curl([httpUrl("evil.gh.test", "/nope")]);
  expect(blocked.status).toBe(403);
  for (const host of ["169.254.169.254", "meta.gh.test", "db.internal", "wiki"]) {
    const r = await curl([httpUrl(host, "/ssrf")]);
    expect(r.status, host).toBe(403);
    expect(r.body).toContain("private_address");
    const [event] = await auditEventsFor(r.headers["x-gatehouse-request-id"]!);
    expect(event).toMatchObject({ outcome: "blocked", rule: "ssrf:private_address" });
  }
  expect(squid.lines().filter((l) => /evil\.gh\.test|169\.254|meta\.gh\.test|db\.internal|wiki/.test(l.url))).toEqual([]);
});

test("the parent's password is in no log line, audit event or journal, and nothing secret crossed", async () => {
  const encoded = Buffer.from(`${PARENT_USER}:${PARENT_PASSWORD}`).toString("base64");
  for (const log of new Set([gh.logFile, gh.proxyLogFile])) checkLogClean(fs.readFileSync(log, "utf8"), [PARENT_PASSWORD, encoded]);
  const audit = readDb((db) => JSON.stringify(db.prepare("SELECT * FROM audit_events").all()));
  expect(audit).not.toContain(PARENT_PASSWORD);
  expect(audit).not.toContain(encoded);
  for (const r of up.received) expect(JSON.stringify(r.headers)).not.toContain(encoded);
  await expectNoSecretCrossed();
});
