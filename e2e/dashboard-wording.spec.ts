// Messages a person reads: plain, about what they did, never a library's raw text.
import { expect, test } from "@playwright/test";
import { api, createApiKey, createUser, readDb, SignInPage, state, unique, updatePolicy } from "./fixtures/app";

test("an empty bundle name says required; a long service account gets our own message", async ({ page }) => {
  await new SignInPage(page).signInOk(state.owner.email, state.owner.password);
  await page.goto(`${state.baseURL}/bundles`);
  await page.getByRole("button", { name: "Create bundle" }).click();
  await expect(page.locator("[data-field-error=bundle-name]")).toHaveText("required");

  const bundle = unique("words");
  await updatePolicy(createApiKey("owner"), (d) =>
    d.bundles.push({ name: bundle, scope: { type: "organization" }, domains: [], connections: [] }),
  );
  await page.goto(`${state.baseURL}/bundles/${bundle}/connections/new`);
  await page.getByLabel("Service name").fill(unique("longsvc"));
  await page.getByLabel("Service account").fill(`${"a".repeat(300)}@acme.example`);
  await page.getByLabel(/Allowed websites/).fill("svc.example.com");
  await page.getByRole("button", { name: "Create connection" }).click();
  const error = page.locator("[data-field-error=serviceAccount]");
  await expect(error).toHaveText("is too long: at most 256 characters");
});

test('"Only to host" accepts host:port as Allowed websites do', async ({ page }) => {
  await new SignInPage(page).signInOk(state.owner.email, state.owner.password);
  const bundle = unique("hp");
  await updatePolicy(createApiKey("owner"), (d) =>
    d.bundles.push({ name: bundle, scope: { type: "organization" }, domains: [], connections: [] }),
  );
  // Connection names are unique per scope: organization-wide here, so a fresh name.
  const name = unique("hpsvc");
  await page.goto(`${state.baseURL}/bundles/${bundle}/connections/new`);
  await page.getByLabel("Service name").fill(name);
  await page.getByLabel("Service account").fill("bot@acme.example");
  await page.getByLabel(/Allowed websites/).fill("svc.example.com:8443");
  await page.getByLabel("Only to host").fill("svc.example.com:8443");
  await page.getByRole("button", { name: "Create connection" }).click();
  await expect(page.getByText(`Connection ${name} saved.`)).toBeVisible();
  const doc = (await api(createApiKey("owner")).get("/policy")).json;
  const conn = doc.bundles.find((b: { name: string }) => b.name === bundle).connections[0];
  expect(conn.narrow.host).toBe("svc.example.com");
});

test("Explain does not claim a narrowing for a connection that has none", async ({ page }) => {
  const ownerKey = createApiKey("owner");
  const bundle = unique("nonarrow");
  const ws = "T0NONARROW";
  await updatePolicy(ownerKey, (d) =>
    d.bundles.push({
      name: bundle,
      scope: { type: "workspace", workspace: ws },
      domains: [],
      connections: [
        { name: "svc", serviceAccount: "bot@acme.example", inject: { type: "bearer" }, allowedWebsites: ["nonarrow.example.com"] },
      ],
    }),
  );
  expect((await api(ownerKey).put(`/connections/${bundle}/svc/credential`, { secret: "fake-nonarrow-1" })).status).toBe(204);
  await new SignInPage(page).signInOk(state.owner.email, state.owner.password);
  await page.goto(`${state.baseURL}/explain?channel=${ws}%2FC1&method=GET&url=${encodeURIComponent("https://nonarrow.example.com/x")}`);
  const result = page.getByTestId("explain-result");
  await expect(result).toContainText(`credential:${bundle}/svc`);
  await expect(result).not.toContainText("fits its narrowing");
  await expect(result).toContainText("(no narrowing)");
});

test("a reused setup link points to sign-in with a link, not to a restart, once an Owner exists", async ({ page }) => {
  await page.goto(`${state.baseURL}/setup?token=gsetup_not_a_real_token`);
  const done = page.getByTestId("setup-done");
  await expect(done).toContainText("already has an Owner");
  await expect(done).not.toContainText(/restart/i);
  await done.getByRole("link", { name: "Sign in" }).click();
  await expect(page).toHaveURL(/\/signin$/);
});

test("an Auditor sees a read-only banner on every page", async ({ page }) => {
  const auditor = createUser("auditor");
  await new SignInPage(page).signInOk(auditor.email, auditor.password);
  for (const path of ["/", "/bundles", "/settings"]) {
    await page.goto(state.baseURL + path);
    await expect(page.getByTestId("read-only-banner")).toContainText("read-only");
  }
  expect(readDb((db) => db.prepare("SELECT role FROM users WHERE email = ?").get(auditor.email))).toEqual({ role: "auditor" });
});
