// Report-only mode through the real proxy: a would-be-blocked request reaches a local upstream
// without any credential and is logged allowlisted + wouldBlock + its reason; the org-wide deny
// list, private addresses and session checks still refuse.
import { expect, test } from "@playwright/test";
import { fetch as undiciFetch, ProxyAgent } from "undici";
import { unique } from "./fixtures/app";
import fs from "node:fs";
import {
  api,
  auditEventsFor,
  bundle,
  caBundle,
  curl,
  expectNoSecretCrossed,
  gh,
  httpsUrl,
  httpUrl,
  orchKey,
  ownerKey,
  proxySuite,
  receivedAt,
  requestSession,
  sandboxSaw,
  up,
  updatePolicy,
} from "./fixtures/proxy-suite";

proxySuite();

const ws = unique("T0RO")
  .toUpperCase()
  .replace(/[^A-Z0-9]/g, "");
let roToken: string;

test.beforeAll(async () => {
  // The suite's bundle (workspace T0PROXY) lists these hosts; in this workspace nothing does,
  // except a credential for api.gh.test that must keep following its own rules.
  await updatePolicy(ownerKey, (doc) => {
    doc.reportOnly = [...(doc.reportOnly ?? []), { workspace: ws, until: new Date(Date.now() + 3600_000).toISOString() }];
    doc.bundles.push({
      name: `${bundle}-ro`,
      scope: { type: "workspace", workspace: ws },
      connections: [
        { name: "gh", serviceAccount: "ro@acme.example", inject: { type: "bearer" }, allowedWebsites: [`api.gh.test:${up.httpsPort}`] },
      ],
    });
  });
  expect((await api(ownerKey).put(`/connections/${bundle}-ro/gh/credential`, { secret: "ghp_FAKE_report_only_0000" })).status).toBe(204);
  const s = await requestSession(orchKey, { workspace: ws, channel: "C0RO" });
  expect(s.status).toBe(201);
  roToken = s.json.token;
});

test.afterAll(async () => {
  await updatePolicy(ownerKey, (doc) => {
    doc.reportOnly = (doc.reportOnly ?? []).filter((r: { workspace: string }) => r.workspace !== ws);
    if (doc.reportOnly.length === 0) delete doc.reportOnly;
    doc.bundles = doc.bundles.filter((b: { name: string }) => b.name !== `${bundle}-ro`);
  });
});

test("a would-be-blocked host is reached without any credential, marked, and logged allowlisted with wouldBlock and its reason", async () => {
  // curl, plain HTTP.
  const r = await curl([httpUrl("registry.gh.test", "/ro/plain"), "-H", "Authorization: Bearer sandbox-own-value"], { token: roToken });
  expect(r.status).toBe(200);
  expect(r.headers["x-gatehouse-outcome"]).toBe("allowlisted");
  expect(r.headers["x-gatehouse-report-only"]).toMatch(/^would-block; until=\d{4}-/);
  const seen = receivedAt("/ro/plain");
  expect(seen).toHaveLength(1);
  // Nothing of Gatehouse's: the sandbox's own header passes as it would on a Domains host.
  expect(seen[0]!.headers.authorization).toBe("Bearer sandbox-own-value");

  // node fetch through the proxy (undici ProxyAgent), HTTPS over a CONNECT tunnel.
  const agent = new ProxyAgent({
    uri: `http://127.0.0.1:${gh.proxyPort}`,
    token: `Bearer ${roToken}`,
    requestTls: { ca: fs.readFileSync(caBundle, "utf8") },
  });
  const res = await undiciFetch(httpsUrl("registry.gh.test", "/ro/tls"), { dispatcher: agent });
  sandboxSaw(await res.text());
  expect(res.status).toBe(200);
  expect(receivedAt("/ro/tls")).toHaveLength(1);
  expect(receivedAt("/ro/tls")[0]!.headers.authorization).toBeUndefined();
  await agent.close();

  // The importer moves the journal into the chain moments behind.
  let request: Record<string, any> | undefined;
  await expect
    .poll(async () => (request = (await auditEventsFor(r.headers["x-gatehouse-request-id"]!)).find((e) => e.action === "egress.request")))
    .toBeTruthy();
  expect(request).toMatchObject({ outcome: "allowlisted", rule: "reportOnly:default:block", connection: null, workspace: ws });
  expect(request!.detail).toMatchObject({ wouldBlock: true, blockCode: "host_not_allowed" });
  expect(request!.detail.blockReason).toContain("registry.gh.test");
  expect(request!.reason).toContain("would be blocked");

  // The API's filter finds it.
  const filtered = await api(ownerKey).get(`/audit?wouldBlock=1&workspace=${ws}&limit=50`);
  expect(filtered.json.events.map((e: { requestId: string }) => e.requestId)).toContain(request!.requestId);
});

test("credentials follow the normal rules; the org-wide deny list, private addresses and bad tokens still refuse", async () => {
  const cred = await curl([httpsUrl("api.gh.test", "/ro/cred")], { token: roToken });
  expect(cred.status).toBe(200);
  expect(cred.headers["x-gatehouse-outcome"]).toBe("credentialed");
  expect(cred.headers["x-gatehouse-report-only"]).toMatch(/^on; until=/);
  expect(receivedAt("/ro/cred")[0]!.headers.authorization).toBe("Bearer ghp_FAKE_report_only_0000");
  // Over plain HTTP the key never travels, report-only or not.
  const plain = await curl([httpUrl("api.gh.test", "/ro/cred-plain")], { token: roToken });
  expect(plain.status).toBe(200);
  expect(receivedAt("/ro/cred-plain")[0]!.headers.authorization).toBeUndefined();

  const denied = await curl([httpUrl("paste.gh.test", "/ro/denied")], { token: roToken });
  expect(denied.status).toBe(403);
  expect(JSON.parse(denied.body).error.code).toBe("org_denied");
  expect(receivedAt("/ro/denied")).toHaveLength(0);

  // meta.gh.test resolves to the metadata address, which GATEHOUSE_ALLOW_PRIVATE does not cover.
  const metadata = await curl([httpUrl("meta.gh.test", "/ro/metadata")], { token: roToken });
  expect(metadata.status).toBe(403);
  expect(metadata.headers["x-gatehouse-outcome"]).toBe("blocked");

  expect((await curl([httpUrl("registry.gh.test", "/ro/no-token")], { token: "gs_not_a_real_token" })).status).toBe(407);
  expect(receivedAt("/ro/no-token")).toHaveLength(0);
});

test("a report-only answer never carried the channel's secrets", async () => {
  await expectNoSecretCrossed();
});
