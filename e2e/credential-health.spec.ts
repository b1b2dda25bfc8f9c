// Credential health (#20): a local upstream that starts refusing the key (as after a rotation
// or revocation there), traffic through the real proxy, and the API, the bundle page and the
// Overview saying "failing" — never anything of the secret beyond its fingerprint.
import fs from "node:fs";
import https from "node:https";
import type net from "node:net";
import path from "node:path";
import { expect, test } from "@playwright/test";
import { api, SignInPage, state } from "./fixtures/app";
import { sandboxWith } from "./fixtures/sandbox";

const SECRET = "fake-health-secret-9876543210";
let upstream: https.Server;
let port = 0;
let refuse = false;

test.beforeAll(async () => {
  upstream = https.createServer(
    {
      cert: fs.readFileSync(path.join(state.upstreamCertDir, "leaf.pem")),
      key: fs.readFileSync(path.join(state.upstreamCertDir, "leaf.key")),
    },
    (req, res) => {
      const ok = !refuse && req.headers.authorization === `Bearer ${SECRET}`;
      res.writeHead(ok ? 200 : 401, { "content-type": "application/json" });
      res.end(ok ? '{"ok":true}' : '{"message":"Bad credentials"}');
    },
  );
  await new Promise<void>((r) => upstream.listen(0, "127.0.0.1", r));
  port = (upstream.address() as net.AddressInfo).port;
});

test.afterAll(async () => {
  upstream.closeAllConnections();
  await new Promise((r) => upstream.close(r));
});

test("a key the upstream starts refusing shows as failing in the API, on the bundle page and the Overview", async ({ page }) => {
  refuse = false;
  const host = `api.gh.test:${port}`;
  const sb = await sandboxWith(
    () => ({
      domains: [],
      connections: [{ name: "svc", serviceAccount: "bot@acme.example", inject: { type: "bearer" }, allowedWebsites: [host] }],
    }),
    { svc: SECRET },
  );
  const owner = api(sb.ownerKey);
  const health = async () => (await owner.get(`/connections/${sb.bundle}/svc`)).json;

  // Set, never used.
  let h = await health();
  expect(h).toMatchObject({
    bundle: sb.bundle,
    connection: "svc",
    serviceAccount: "bot@acme.example",
    health: { state: "unused", neverUsedSinceSet: true, lastSuccessAt: null },
  });
  expect(h.credential.fingerprint).toMatch(/./);

  // Works: healthy, with its last success.
  const ok = await sb.curl([`https://${host}/user`]);
  expect(ok.status).toBe(200);
  expect(ok.headers["x-gatehouse-outcome"]).toBe("credentialed");
  await expect.poll(async () => (await health()).health.state).toBe("healthy");
  h = await health();
  expect(h.health.lastSuccessAt).toMatch(/^\d{4}-/);
  expect(h.health).toMatchObject({ answers24h: 1, authFailures24h: 0, authFailureShare24h: 0 });

  // Rotated at the upstream: the next requests get 401 and the credential is failing.
  refuse = true;
  for (let i = 0; i < 3; i++) expect((await sb.curl([`https://${host}/user`])).status).toBe(401);
  await expect.poll(async () => (await health()).health.state).toBe("failing");
  h = await health();
  expect(h.health).toMatchObject({ answers24h: 4, authFailures24h: 3, authFailureShare24h: 0.75 });
  const list = await owner.get("/connections");
  expect(list.status).toBe(200);
  expect(list.json.connections.find((c: { bundle: string }) => c.bundle === sb.bundle).health.state).toBe("failing");
  expect(list.text).not.toContain(SECRET);
  expect((await owner.get(`/connections/${sb.bundle}/nope`)).status).toBe(404);

  await new SignInPage(page).signInOk(state.owner.email, state.owner.password);
  await page.goto(`${state.baseURL}/bundles/${sb.bundle}?tab=connections`);
  const row = page.getByTestId("health-svc");
  await expect(row.locator("[data-state]")).toHaveAttribute("data-state", "failing");
  await expect(row).toContainText("75% 401/403 in the last 24 hours (3 of 4)");
  await page.goto(`${state.baseURL}/`);
  await expect(page.getByTestId(`overview-health-${sb.bundle}/svc`)).toHaveAttribute("data-state", "failing");
  await expect(page.getByTestId("failing-credentials")).toContainText(`${sb.bundle}/svc`);
  expect(await page.content()).not.toContain(SECRET);
});
