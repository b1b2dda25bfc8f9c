// Feedback tied to the action just taken: stale success messages and typed secrets go away,
// forms empty after success, field errors clear once fixed, removals ask first, hosts the
// org-wide deny list covers are not offered and are added only when confirmed, long input is not echoed whole.
import { expect, test, type Page } from "@playwright/test";
import { createApiKey, readDb, SignInPage, state, unique, updatePolicy } from "./fixtures/app";

async function ownerOnBundle(page: Page, connections: unknown[] = []) {
  const bundle = unique("fb");
  // Its own workspace: connection names are unique per scope, so tests never collide.
  const workspace = `T0FB${Date.now().toString(36).toUpperCase()}`;
  await updatePolicy(createApiKey("owner"), (d) =>
    d.bundles.push({ name: bundle, scope: { type: "workspace", workspace }, domains: [], connections }),
  );
  await new SignInPage(page).signInOk(state.owner.email, state.owner.password);
  return bundle;
}

test("after revoking a credential the page no longer says it was saved, and the secret box is empty", async ({ page }) => {
  const bundle = await ownerOnBundle(page, [
    { name: "svc", serviceAccount: "bot@acme.example", inject: { type: "bearer" }, allowedWebsites: ["svc.example.com"] },
  ]);
  await page.goto(`${state.baseURL}/bundles/${bundle}?tab=connections`);
  await page.getByLabel("Credential for svc").fill("fake-first-secret-1");
  await page.getByRole("button", { name: "Set credential" }).click();
  await expect(page.getByTestId("credential-svc")).toContainText("set by");
  // Replace: the message belongs to this save and the box is emptied.
  await page.getByLabel("New credential for svc").fill("fake-second-secret-2");
  await page.getByRole("button", { name: "Replace credential" }).click();
  await expect(page.getByText("Credential saved.")).toBeVisible();
  await expect(page.getByLabel("New credential for svc")).toHaveValue("");
  // Something typed but not saved, then Revoke: neither the message nor the text survive.
  await page.getByLabel("New credential for svc").fill("fake-typed-not-saved-3");
  page.once("dialog", (d) => void d.accept());
  await page.getByRole("button", { name: "Revoke credential of svc" }).click();
  await expect(page.getByTestId("credential-svc")).toContainText("not set");
  await expect(page.getByText("Credential saved.")).toHaveCount(0);
  await expect(page.getByLabel("Credential for svc")).toHaveValue("");
});

test("the Domains box empties after an add; a server field error clears once the field changes; Remove asks first", async ({ page }) => {
  const bundle = await ownerOnBundle(page);
  await page.goto(`${state.baseURL}/bundles/${bundle}?tab=domains`);
  const form = page.getByRole("form", { name: "Add domain" });
  const box = form.locator("input[name=pattern]");
  await box.fill("registry.npmjs.org");
  await form.getByRole("button", { name: "Add domain" }).click();
  await expect(form.getByText("Domain added.")).toBeVisible();
  await expect(box).toHaveValue("");
  await expect(page.getByRole("region", { name: "Domains" })).toContainText("registry.npmjs.org");

  // A duplicate passes the browser's check; the server refuses it on the field.
  await box.fill("registry.npmjs.org");
  await form.getByRole("button", { name: "Add domain" }).click();
  const fieldError = form.locator("[data-field-error=pattern]");
  await expect(fieldError).toContainText("already");
  await expect(form.getByText("Domain added.")).toHaveCount(0);
  await box.fill("pypi.org");
  await expect(fieldError).toHaveCount(0);

  // Remove: the confirm step (with its impact preview) asks first; Cancel keeps the domain.
  await page.getByRole("button", { name: "Remove registry.npmjs.org" }).click();
  const confirm = page.getByRole("group", { name: /Remove registry\.npmjs\.org from this bundle/ });
  await expect(confirm.getByTestId("impact-summary")).toBeVisible();
  await confirm.getByRole("button", { name: "Cancel" }).click();
  await expect(page.getByRole("region", { name: "Domains" })).toContainText("registry.npmjs.org");
  await page.getByRole("button", { name: "Remove registry.npmjs.org" }).click();
  await page
    .getByRole("group", { name: /Remove registry\.npmjs\.org from this bundle/ })
    .getByRole("button", { name: "Remove", exact: true })
    .click();
  await expect(page.getByText("No domains.")).toBeVisible();
});

test("a host the org-wide deny list covers is not offered for Domains, and adding it names the deny entry", async ({ page }) => {
  const zone = `${unique("deny")}.example`;
  const bundle = await ownerOnBundle(page);
  await updatePolicy(createApiKey("owner"), (d) => d.orgDeny.push(`*.${zone}`));
  const before = readDb(
    (db) =>
      (db.prepare("SELECT count(*) AS n FROM audit_events WHERE action = 'domain.added' AND bundle = ?").get(bundle) as { n: number }).n,
  );

  await page.goto(`${state.baseURL}/bundles?allow=${encodeURIComponent(`api.${zone}`)}`);
  await expect(page.getByTestId("allow-host-denied")).toContainText(`*.${zone}`);
  await expect(page.getByTestId("allow-host")).toHaveCount(0);

  await page.goto(`${state.baseURL}/bundles/${bundle}?tab=domains`);
  const form = page.getByRole("form", { name: "Add domain" });
  await form.locator("input[name=pattern]").fill(`api.${zone}`);
  await form.getByRole("button", { name: "Add domain" }).click();
  await expect(form.locator("[data-field-error=pattern]")).toContainText(`deny list entry *.${zone}`);
  await expect(form.getByText("Domain added.")).toHaveCount(0);
  await expect(page.getByText("No domains.")).toBeVisible();
  const after = readDb(
    (db) =>
      (db.prepare("SELECT count(*) AS n FROM audit_events WHERE action = 'domain.added' AND bundle = ?").get(bundle) as { n: number }).n,
  );
  expect(after).toBe(before);
});

test("a very long invalid host is cut short in the error and never widens the page", async ({ page }) => {
  const bundle = await ownerOnBundle(page);
  await page.setViewportSize({ width: 1280, height: 900 });
  await page.goto(`${state.baseURL}/bundles/${bundle}?tab=domains`);
  const long = `${"x".repeat(300)}!.com`;
  const form = page.getByRole("form", { name: "Add domain" });
  await form.locator("input[name=pattern]").fill(long);
  await form.getByRole("button", { name: "Add domain" }).click();
  const fieldError = form.locator("[data-field-error=pattern]");
  await expect(fieldError).toBeVisible();
  const text = (await fieldError.textContent()) ?? "";
  expect(text).not.toContain(long);
  expect(text.length).toBeLessThan(160);
  expect(await page.evaluate(() => document.scrollingElement!.scrollWidth <= window.innerWidth)).toBe(true);
  // The same through ?allow=: the prefilled title does not widen the page either.
  await page.goto(`${state.baseURL}/bundles?allow=${encodeURIComponent(long)}`);
  expect(await page.evaluate(() => document.scrollingElement!.scrollWidth <= window.innerWidth)).toBe(true);
});
