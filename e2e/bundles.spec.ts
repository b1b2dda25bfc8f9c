import fs from "node:fs";
import path from "node:path";
import { expect, test } from "@playwright/test";
import { api, createApiKey, readDb, SignInPage, state, unique } from "./fixtures/app";
import { checkLogClean } from "./fixtures/logs";

// Obviously fake, and distinctive enough to grep for.
const SECRET = `ghp_FAKE_${Date.now().toString(36)}_e2e_secret_value`;
const REPLACED = `ghp_FAKE_${Date.now().toString(36)}_replaced_value`;

function grepTree(dir: string, needle: string): string[] {
  const hits: string[] = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) hits.push(...grepTree(p, needle));
    else if (fs.readFileSync(p).includes(Buffer.from(needle))) hits.push(p);
  }
  return hits;
}

test("an Owner builds bundles in the browser; the secret appears nowhere afterwards", async ({ page }) => {
  const baseline = unique("baseline");
  const team = unique("team");
  const ws = "T0ACME";
  const ch = unique("C0ENG")
    .toUpperCase()
    .replace(/[^A-Z0-9]/g, "");
  const pages: string[] = [];
  page.on("response", async (res) => {
    if (res.url().startsWith(state.baseURL) && (res.headers()["content-type"] ?? "").match(/html|json|text|x-component/)) {
      pages.push(await res.text().catch(() => ""));
    }
  });

  await new SignInPage(page).signInOk(state.owner.email, state.owner.password);
  await page.goto(state.baseURL + "/bundles");

  // A baseline bundle for the organization.
  await page.getByLabel("Bundle name").fill(baseline);
  await page.getByRole("button", { name: "Create bundle" }).click();
  await expect(page.getByRole("heading", { name: baseline })).toBeVisible();

  // A connection with a credential, Allowed websites and a narrowing.
  await page.getByRole("link", { name: "Add connection" }).click();
  await page.getByLabel("Service name").fill("github");
  await page.getByLabel("Service account").fill("claude-agent@acme.example");
  const websites = page.getByLabel(/Allowed websites/);
  await websites.fill("api.github.com\nhttps://bad.example/path");
  await expect(page.locator('[data-field-error="allowedWebsites"]')).toContainText("give a host, not a URL");
  await websites.fill("api.github.com\nuploads.github.com");
  await expect(page.locator('[data-field-error="allowedWebsites"]')).toHaveCount(0);
  await page.getByLabel("Only to host").fill("api.github.com");
  await page.getByLabel("Only under path prefix").fill("/repos/acme");
  await page.getByLabel(/Read-only methods/).check();
  await page.getByLabel("Credential", { exact: true }).fill(SECRET);
  await page.getByRole("button", { name: "Create connection" }).click();
  await expect(page.getByText("Connection github saved.")).toBeVisible();
  await expect(page.getByTestId("credential-github")).toContainText("fingerprint");
  await expect(page.getByTestId("credential-github")).toContainText(state.owner.email);
  await expect(page.getByRole("button", { name: "Replace credential" })).toBeVisible();
  await expect(page.getByRole("button", { name: "Revoke credential" })).toBeVisible();

  // A failed save changes nothing and names the field.
  await page.getByRole("link", { name: "Add connection" }).click();
  await page.getByLabel("Service name").fill("github");
  await page.getByLabel("Service account").fill("x@acme.example");
  await page.getByLabel(/Allowed websites/).fill("api.github.com");
  await page.getByRole("button", { name: "Create connection" }).click();
  await expect(page.locator('[data-field-error="name"]')).toContainText("already has a connection");

  // Replace the credential: still write-only.
  await page.goto(`${state.baseURL}/bundles/${baseline}`);
  await page.getByLabel("New credential for github").fill(REPLACED);
  await page.getByRole("button", { name: "Replace credential" }).click();
  await expect(page.getByText("Credential saved.")).toBeVisible();

  // Domains tab.
  await page.getByRole("tab", { name: "Domains" }).click();
  await page.getByPlaceholder(/registry.npmjs.org/).fill("registry.npmjs.org");
  await page.getByRole("button", { name: "Add domain" }).click();
  await expect(page.getByRole("cell", { name: "registry.npmjs.org", exact: true })).toBeVisible();
  await page.getByPlaceholder(/registry.npmjs.org/).fill("*");
  await expect(page.locator('[data-field-error="pattern"]')).toBeVisible();

  // A second bundle scoped to one channel, overriding the baseline's github there.
  await page.goto(state.baseURL + "/bundles");
  await page.getByLabel("Bundle name").fill(team);
  await page.getByLabel("Scope").selectOption("channels");
  await page.getByLabel("Workspace ID").fill(ws);
  await page.getByLabel("Channel IDs").fill(ch);
  await page.getByRole("button", { name: "Create bundle" }).click();
  await expect(page.getByRole("heading", { name: team })).toBeVisible();
  await page.getByRole("link", { name: "Add connection" }).click();
  await page.getByLabel("Service name").fill("github");
  await page.getByLabel("Service account").fill("claude-platform@acme.example");
  await page.getByLabel(/Allowed websites/).fill("api.github.com");
  await page.getByLabel("Credential", { exact: true }).fill(`${SECRET}-team`);
  await page.getByRole("button", { name: "Create connection" }).click();
  await expect(page.getByText("Connection github saved.")).toBeVisible();

  // The Channels page shows the override with where each rule comes from.
  await page.getByRole("link", { name: "Channels", exact: true }).click();
  const card = page.locator("section", { has: page.getByTestId(`channel-${ws}/${ch}`) });
  await expect(card.getByRole("row", { name: /github/ })).toContainText(team);
  await expect(card.getByRole("row", { name: /github/ })).toContainText(`overrides ${baseline} (organization)`);
  await expect(card.getByText("registry.npmjs.org")).toBeVisible();

  // Explain shows which rule won and why.
  await page.goto(
    `${state.baseURL}/explain?channel=${ws}/${ch}&method=POST&url=${encodeURIComponent("https://api.github.com/repos/acme/x")}`,
  );
  const result = page.getByTestId("explain-result");
  await expect(result).toContainText("credentialed");
  await expect(result).toContainText(`credential:${team}/github:api.github.com`);
  await page.goto(
    `${state.baseURL}/explain?channel=T0OTHER/C0X&method=POST&url=${encodeURIComponent("https://api.github.com/repos/acme/x")}`,
  );
  await expect(result).toContainText("allowlisted");
  await expect(result).toContainText("POST is not a read-only method");

  // Afterwards the secret is nowhere: pages, API, server log, data directory.
  for (const url of [
    "/bundles",
    `/bundles/${baseline}`,
    `/bundles/${baseline}?tab=domains`,
    `/bundles/${baseline}/connections/github`,
    "/channels",
    "/",
    "/settings",
  ]) {
    await page.goto(state.baseURL + url);
    const html = await page.content();
    expect(html).not.toContain(SECRET);
    expect(html).not.toContain(REPLACED);
  }
  for (const body of pages) {
    expect(body).not.toContain(SECRET);
    expect(body).not.toContain(REPLACED);
  }
  const owner = api(createApiKey("owner"));
  const policy = await owner.get("/policy");
  expect(policy.status).toBe(200);
  expect(policy.text).not.toContain("ghp_FAKE");
  checkLogClean(fs.readFileSync(state.logFile, "utf8"), ["ghp_FAKE", SECRET, REPLACED]);
  expect(grepTree(state.dataDir, SECRET)).toEqual([]);
  expect(grepTree(state.dataDir, REPLACED)).toEqual([]);
  const audit = readDb(
    (db) => db.prepare("SELECT action, detail FROM audit_events WHERE bundle = ?").all(baseline) as { action: string; detail: string }[],
  );
  expect(audit.map((a) => a.action)).toEqual(
    expect.arrayContaining(["bundle.created", "connection.created", "credential.set", "credential.replaced", "domain.added"]),
  );
  expect(JSON.stringify(audit)).toContain("[write-only]");
  expect(JSON.stringify(audit)).not.toContain("ghp_FAKE");
});

test("API: the policy document round-trips, bad documents get 400 naming the field and change nothing", async () => {
  const ownerKey = createApiKey("owner");
  const owner = api(ownerKey);
  const before = await owner.get("/policy");
  expect(before.status).toBe(200);
  expect(before.json.version).toBe(1);

  const bad = await owner.put("/policy", {
    ...before.json,
    bundles: [...before.json.bundles, { name: "x", scope: { type: "organization" }, domains: ["http://nope/"] }],
  });
  expect(bad.status).toBe(400);
  expect(bad.json.error.code).toBe("invalid_field");
  expect(bad.json.error.field).toBe(`bundles[${before.json.bundles.length}].domains[0]`);
  const notJson = await fetch(`${state.baseURL}/api/v1/policy`, {
    method: "PUT",
    headers: { Authorization: `Bearer ${ownerKey}` },
    body: "{",
  });
  expect(notJson.status).toBe(400);
  const tooBig = await fetch(`${state.baseURL}/api/v1/policy`, {
    method: "PUT",
    headers: { Authorization: `Bearer ${ownerKey}` },
    body: "x".repeat(1024 * 1024 + 1),
  });
  expect(tooBig.status).toBe(413);
  expect((await owner.get("/policy")).json).toEqual(before.json);

  // Dry run: the diff, nothing applied.
  const name = unique("api-bundle");
  const next = {
    ...before.json,
    bundles: [...before.json.bundles, { name, scope: { type: "organization" }, domains: ["pypi.org"], connections: [] }],
  };
  const dry = await owner.put("/policy?dryRun=1", next);
  expect(dry.status).toBe(200);
  expect(dry.json.dryRun).toBe(true);
  expect(dry.json.diff).toEqual([
    { path: `bundles[${name}]`, op: "added", after: { name, scope: { type: "organization" }, domains: ["pypi.org"], connections: [] } },
  ]);
  expect((await owner.get("/policy")).json).toEqual(before.json);

  const applied = await owner.put("/policy", next);
  expect(applied.status).toBe(200);
  expect(applied.json.applied).toBe(true);
  expect((await owner.get("/policy")).json.bundles.map((b: { name: string }) => b.name)).toContain(name);

  // YAML works too, and re-applying the same document is a no-op.
  const yaml = await fetch(`${state.baseURL}/api/v1/policy?format=yaml`, {
    headers: { Authorization: `Bearer ${await createApiKey("auditor")}` },
  });
  expect(yaml.headers.get("content-type")).toContain("yaml");
  const again = await owner.put("/policy", next);
  expect(again.json.applied).toBe(false);
});

test("API: roles — an Auditor key reads but gets 403 on every write; no key is 401", async () => {
  const auditor = api(createApiKey("auditor"));
  const orchestrator = api(createApiKey("orchestrator"));
  expect((await auditor.get("/policy")).status).toBe(200);
  const writes: [string, string, unknown][] = [
    ["PUT", "/policy", { version: 1 }],
    ["PUT", "/policy?dryRun=1", { version: 1 }],
    ["PUT", "/connections/baseline/github/credential", { secret: "fake" }],
    ["DELETE", "/connections/baseline/github/credential", undefined],
  ];
  for (const [method, url, body] of writes) {
    const r = method === "PUT" ? await auditor.put(url, body) : await auditor.delete(url);
    expect(r.status, `${method} ${url}`).toBe(403);
    expect(r.json.error.code).toBe("forbidden");
  }
  expect((await orchestrator.get("/policy")).status).toBe(403);
  expect((await orchestrator.post("/explain", { channel: "T/C", url: "https://x.com/" })).status).toBe(403);
  const anon = await fetch(`${state.baseURL}/api/v1/policy`);
  expect(anon.status).toBe(401);
  const revoked = await fetch(`${state.baseURL}/api/v1/policy`, { headers: { Authorization: "Bearer gk_not_a_real_key" } });
  expect(revoked.status).toBe(401);
});

test("API: credentials are write-only and explain reports the winning rule", async () => {
  const owner = api(createApiKey("owner"));
  const bundle = unique("cred");
  const doc = (await owner.get("/policy")).json;
  doc.bundles.push({
    name: bundle,
    scope: { type: "workspace", workspace: "T0CRED" },
    connections: [
      {
        name: "svc",
        serviceAccount: "bot@acme.example",
        inject: { type: "header", name: "X-Api-Key" },
        allowedWebsites: ["svc.example.com"],
      },
    ],
  });
  expect((await owner.put("/policy", doc)).status).toBe(200);

  const url = "https://svc.example.com/v1/thing";
  expect((await owner.post("/explain", { channel: "T0CRED/C1", method: "GET", url })).json.outcome).toBe("allowlisted");
  expect((await owner.put(`/connections/${bundle}/svc/credential`, { secret: "fake-key-123" })).status).toBe(204);
  const ex = await owner.post("/explain", { channel: "T0CRED/C1", method: "GET", url });
  expect(ex.json.outcome).toBe("credentialed");
  expect(ex.json.rule).toBe(`credential:${bundle}/svc:svc.example.com`);
  expect(ex.text).not.toContain("fake-key-123");
  expect((await owner.put(`/connections/${bundle}/svc/credential`, { secret: "" })).json.error.field).toBe("secret");
  expect((await owner.put(`/connections/${bundle}/svc/credential`, { secret: "a\r\nInjected: 1" })).status).toBe(400);
  expect((await owner.put(`/connections/${bundle}/nope/credential`, { secret: "x" })).status).toBe(404);
  expect((await owner.delete(`/connections/${bundle}/svc/credential`)).status).toBe(204);
  expect((await owner.post("/explain", { channel: "T0CRED/C1", method: "GET", url })).json.outcome).toBe("allowlisted");
  expect((await owner.delete(`/connections/${bundle}/svc/credential`)).status).toBe(404);
  expect((await owner.post("/explain", { channel: "T0CRED/C1", url: "not a url" })).json.error.field).toBe("url");
});
