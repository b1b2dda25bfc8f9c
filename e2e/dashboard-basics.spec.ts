// Basics: copy for a key shown once, the first-run checklist, what Channels shows.
import { expect, test } from "@playwright/test";
import { api, createApiKey, requestSession, SignInPage, state, unique, updatePolicy } from "./fixtures/app";

test("a new API key can be copied with one click, with or without the Clipboard API", async ({ browser }) => {
  // clipboard-read is disabled by our Permissions-Policy, so record what the page writes instead.
  const context = await browser.newContext({ permissions: ["clipboard-write"] });
  await context.addInitScript(() => {
    const w = window as unknown as { __copied: string[] };
    w.__copied = [];
    const clipboard = navigator.clipboard;
    if (clipboard) {
      const original = clipboard.writeText.bind(clipboard);
      clipboard.writeText = async (text: string) => {
        w.__copied.push(text);
        return original(text);
      };
    }
  });
  const page = await context.newPage();
  await new SignInPage(page).signInOk(state.owner.email, state.owner.password);
  await page.goto(`${state.baseURL}/settings`);
  const name = unique("copy");
  const form = page.getByRole("form", { name: "Create API key" });
  await form.getByLabel("Name").fill(name);
  await form.getByRole("button", { name: "Create key" }).click();
  const key = (await page.getByTestId("new-api-key").textContent())!.trim();
  expect(key.length).toBeGreaterThan(20);
  await page.getByRole("button", { name: `Copy the key for ${name}` }).click();
  await expect(form.getByText("Copied.")).toBeVisible();
  expect(await page.evaluate(() => (window as unknown as { __copied: string[] }).__copied)).toEqual([key]);

  // Without the Clipboard API (plain-HTTP origins) the selection fallback copies the same text.
  await page.evaluate(() => {
    const w = window as unknown as { __selected: string[] };
    w.__selected = [];
    Object.defineProperty(navigator, "clipboard", { value: undefined, configurable: true });
    document.addEventListener("copy", (e) => w.__selected.push((e.target as HTMLTextAreaElement).value));
  });
  await page.getByRole("button", { name: `Copy the key for ${name}` }).click();
  await expect(form.getByText("Copied.")).toBeVisible();
  await expect(form.getByText("Copy failed")).toHaveCount(0);
  expect(await page.evaluate(() => (window as unknown as { __selected: string[] }).__selected)).toEqual([key]);
  await context.close();
});

test("the first-run checklist is gone once a bundle, connection, orchestrator key and session exist", async ({ page }) => {
  const ownerKey = createApiKey("owner");
  const ws = `T0CHK${Date.now().toString(36).toUpperCase()}`;
  await updatePolicy(ownerKey, (d) => {
    d.bundles.push({
      name: unique("chk"),
      scope: { type: "workspace", workspace: ws },
      domains: [],
      connections: [{ name: "svc", serviceAccount: "bot@acme.example", inject: { type: "bearer" }, allowedWebsites: ["chk.example.com"] }],
    });
  });
  expect((await requestSession(createApiKey("orchestrator"), { workspace: ws, channel: "C0CHK" })).status).toBe(201);
  await new SignInPage(page).signInOk(state.owner.email, state.owner.password);
  await expect(page.getByRole("heading", { name: "Overview" })).toBeVisible();
  await expect(page.getByTestId("first-run-checklist")).toHaveCount(0);
});

test("Channels shows narrowings, whether a credential is set (never the secret), and the org-wide deny list", async ({ page }) => {
  const ownerKey = createApiKey("owner");
  const bundle = unique("chan");
  const ws = `T0CH${Date.now().toString(36).toUpperCase()}`;
  const deny = `${unique("chdeny")}.example`;
  await updatePolicy(ownerKey, (d) => {
    d.orgDeny.push(deny);
    d.bundles.push({
      name: bundle,
      scope: { type: "channels", workspace: ws, channels: ["C0CHAN"] },
      domains: [],
      connections: [
        {
          name: "narrowed",
          serviceAccount: "bot@acme.example",
          inject: { type: "bearer" },
          allowedWebsites: ["api.chan.example"],
          narrow: { pathPrefix: "/repos/acme", methods: "read_only" },
        },
        { name: "plain", serviceAccount: "bot@acme.example", inject: { type: "bearer" }, allowedWebsites: ["plain.chan.example"] },
      ],
    });
  });
  const secret = "fake-channel-secret-42";
  expect((await api(ownerKey).put(`/connections/${bundle}/narrowed/credential`, { secret })).status).toBe(204);
  await new SignInPage(page).signInOk(state.owner.email, state.owner.password);
  await page.goto(`${state.baseURL}/channels`);
  await expect(page.getByTestId("channels-org-deny")).toContainText(deny);
  const table = page.getByRole("region", { name: `Connections of ${ws}/C0CHAN` });
  const narrowed = table.getByRole("row").filter({ hasText: "narrowed" });
  await expect(narrowed).toContainText("path /repos/acme");
  await expect(narrowed).toContainText("read-only");
  await expect(narrowed).toContainText("set");
  const plain = table.getByRole("row").filter({ hasText: "plain.chan.example" });
  await expect(plain).toContainText("not set");
  await expect(plain).toContainText("none");
  expect(await page.content()).not.toContain(secret);
});
