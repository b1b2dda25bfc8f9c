// Time-bound grants from each entry point (a bundle page, the Overview's top blocked hosts, an
// Audit event of a blocked request) and report-only mode (banner, marker, filter, prefilled add).
import { expect, test, type Page } from "@playwright/test";
import { api, createApiKey, createUser, requestSession, SignInPage, state, unique, updatePolicy, viaProxy } from "./fixtures/app";

test.describe.configure({ mode: "serial" });

let ownerKey: string;
let orchKey: string;
let owner: { email: string; password: string };
const H = 3600_000;

async function signIn(page: Page) {
  await new SignInPage(page).signInOk(owner.email, owner.password);
}

async function policy() {
  return (await api(ownerKey).get("/policy")).json;
}

async function adminActions(bundle: string): Promise<string[]> {
  const r = await api(ownerKey).get(`/audit?kind=admin&limit=200`);
  return (r.json.events as { action: string; bundle: string | null }[])
    .filter((e) => e.bundle === bundle)
    .map((e) => e.action)
    .reverse();
}

test.beforeAll(async () => {
  owner = createUser("owner", "owner-password-fake-20b");
  ownerKey = createApiKey("owner");
  orchKey = createApiKey("orchestrator");
  await updatePolicy(ownerKey, (d) => {
    d.memberAccess = { mode: "anyone", roles: [], directMessages: "enabled" };
    delete d.channels;
  });
});

test("a bundle page grants a host for a day, shows the time left, extends and revokes it", async ({ page }) => {
  const bundle = unique("grantb");
  await updatePolicy(ownerKey, (d) =>
    d.bundles.push({ name: bundle, scope: { type: "workspace", workspace: "T0GRANT" }, domains: ["lasting.example"] }),
  );
  await signIn(page);
  await page.goto(`${state.baseURL}/bundles/${bundle}?tab=domains`);
  const form = page.getByRole("form", { name: "Grant for a time" });
  await form.getByLabel("Host").fill("tools.grant.example");
  await form.getByLabel("For").selectOption("1d");
  const before = Date.now();
  await form.getByRole("button", { name: "Grant" }).click();
  const row = page.getByTestId("domain-row").filter({ hasText: "tools.grant.example" });
  await expect(row.getByTestId("time-left")).toContainText(/expires in 23 h 5\d min|expires in 1 d/);
  const entry = (await policy()).bundles.find((b: { name: string }) => b.name === bundle).domains[1];
  expect(entry.pattern).toBe("tools.grant.example");
  const end = Date.parse(entry.expiresAt);
  expect(end).toBeGreaterThanOrEqual(before + 24 * H - 1000);
  expect(end).toBeLessThanOrEqual(Date.now() + 24 * H + 1000);
  // The lasting entry has no time and a plain Remove.
  await expect(page.getByTestId("domain-row").filter({ hasText: "lasting.example" }).getByTestId("time-left")).toHaveCount(0);

  await row.getByLabel("Extend to", { exact: true }).selectOption("7d");
  await row.getByRole("button", { name: "Extend tools.grant.example" }).click();
  await expect(row.getByTestId("time-left")).toContainText(/expires in 6 d 23 h|expires in 7 d/);
  page.once("dialog", (d) => void d.accept());
  await row.getByRole("button", { name: "Revoke tools.grant.example" }).click();
  await expect(page.getByTestId("domain-row").filter({ hasText: "tools.grant.example" })).toHaveCount(0);
  await expect.poll(() => adminActions(bundle)).toEqual(["grant.added", "grant.extended", "grant.revoked"]);
});

test("the Overview's top blocked hosts grant a host to the channel it was blocked in, for an hour", async ({ page }) => {
  const ws = unique("T0OV")
    .toUpperCase()
    .replace(/[^A-Z0-9]/g, "");
  const host = `${unique("ovb")}.gh.test`;
  const s = await requestSession(orchKey, { workspace: ws, channel: "C0OVER" });
  expect(s.status).toBe(201);
  // More than any other host the shared server blocked this week, so it is in the top ten.
  for (let i = 0; i < 30; i++) expect((await viaProxy(s.json.token, `http://${host}/x`)).status).toBe(403);
  await signIn(page);
  await page.goto(`${state.baseURL}/`);
  const row = page.getByTestId("top-blocked").filter({ hasText: host });
  await row.getByRole("link", { name: `Grant for a time… ${host}` }).click();
  await expect(page).toHaveURL(/\/grants\?/);
  const form = page.getByRole("form", { name: "Grant for a time" });
  await expect(form.getByLabel("Host")).toHaveValue(host);
  await expect(form.getByLabel("Workspace")).toHaveValue(ws);
  await expect(form.getByLabel("Channel")).toHaveValue("C0OVER");
  await form.getByLabel("For").selectOption("1h");
  await form.getByRole("button", { name: "Grant" }).click();
  await expect(page.getByTestId("grant-row").filter({ hasText: host }).getByTestId("time-left")).toContainText(/expires in (59 min|1 h)/);
  const granted = (await policy()).bundles.find((b: { name: string }) => b.name === `grants-${ws}-C0OVER`);
  expect(granted.scope).toEqual({ type: "channels", workspace: ws, channels: ["C0OVER"] });
  expect(granted.domains[0].pattern).toBe(host);
  // The very next request is no longer blocked (nothing listens on port 80: a 502, not a 403).
  expect((await viaProxy(s.json.token, `http://${host}/x`)).headers["x-gatehouse-outcome"]).toBe("allowlisted");
  // Explain and Channels show the time left too.
  await page.goto(
    `${state.baseURL}/explain?channel=${encodeURIComponent(`${ws}/C0OVER`)}&method=GET&url=${encodeURIComponent(`http://${host}/x`)}`,
  );
  await expect(page.getByTestId("explain-expires")).toContainText(/expires in (59 min|1 h)/);
  await page.goto(`${state.baseURL}/channels`);
  await expect(page.getByTestId(`channel-${ws}/C0OVER`)).toBeVisible();
  await expect(page.locator("li").filter({ hasText: host }).getByTestId("time-left")).toContainText(/expires in (59 min|1 h)/);
});

test("an Audit event of a blocked request grants its host until a chosen time", async ({ page }) => {
  const ws = unique("T0AE")
    .toUpperCase()
    .replace(/[^A-Z0-9]/g, "");
  const host = `${unique("aeb")}.gh.test`;
  const s = await requestSession(orchKey, { workspace: ws, channel: "C0AUD" });
  expect((await viaProxy(s.json.token, `http://${host}/blocked`)).status).toBe(403);
  await signIn(page);
  await page.goto(`${state.baseURL}/audit?host=${host}&outcome=blocked`);
  await page.getByTestId("audit-row").first().getByRole("link").first().click();
  await page
    .getByTestId("event-detail")
    .getByRole("link", { name: `Grant for a time… ${host}` })
    .click();
  const form = page.getByRole("form", { name: "Grant for a time" });
  await expect(form.getByLabel("Host")).toHaveValue(host);
  await form.getByLabel("For").selectOption("custom");
  const until = new Date(Date.now() + 3 * 24 * H).toISOString().slice(0, 16);
  await form.getByLabel("Until (UTC)").fill(until);
  await form.getByRole("button", { name: "Grant" }).click();
  await expect(page.getByTestId("grant-row").filter({ hasText: host })).toBeVisible();
  const granted = (await policy()).bundles.find((b: { name: string }) => b.name === `grants-${ws}-C0AUD`);
  expect(granted.domains).toEqual([{ pattern: host, expiresAt: `${until}:00.000Z` }]);
});

test("report-only mode: banner everywhere, Overview marker, the would-have-blocked filter and its prefilled add form", async ({ page }) => {
  const ws = unique("T0RO")
    .toUpperCase()
    .replace(/[^A-Z0-9]/g, "");
  const host = `${unique("rob")}.gh.test`;
  const bundle = unique("robundle");
  await updatePolicy(ownerKey, (d) => d.bundles.push({ name: bundle, scope: { type: "workspace", workspace: ws } }));
  await signIn(page);
  await page.goto(`${state.baseURL}/grants`);
  await expect(page.getByTestId("report-only-banner")).toHaveCount(0);
  const form = page.getByRole("form", { name: "Report-only mode" });
  await form.getByLabel("Workspace", { exact: true }).fill(ws);
  await form.getByLabel("For").selectOption("1d");
  await form.getByRole("button", { name: "Start report-only" }).click();
  try {
    await expect(page.getByTestId("report-only-banner")).toContainText(`workspace ${ws}`);
    for (const path of ["/", "/bundles", "/channels", "/members", "/sessions", "/audit", "/settings", "/explain"]) {
      await page.goto(`${state.baseURL}${path}`);
      await expect(page.getByTestId("report-only-banner"), path).toContainText(/ends in (23 h|1 d)/);
    }
    await page.goto(`${state.baseURL}/`);
    await expect(page.getByTestId("overview-report-only")).toContainText(`workspace ${ws}`);

    const s = await requestSession(orchKey, { workspace: ws, channel: "C0RO" });
    const r = await viaProxy(s.json.token, `http://${host}/would-block`);
    expect(r.headers["x-gatehouse-outcome"]).toBe("allowlisted");
    expect(r.headers["x-gatehouse-report-only"]).toBeTruthy();

    await page.goto(`${state.baseURL}/audit`);
    await page.getByLabel("Would have blocked (report-only)").check();
    await page.getByLabel("Host").fill(host);
    await page.getByRole("button", { name: "Search" }).click();
    await expect(page).toHaveURL(/wouldBlock=1/);
    const row = page.getByTestId("audit-row").filter({ hasText: host });
    await expect(row).toHaveCount(1);
    await expect(row).toContainText("would have been blocked");
    await row.getByRole("link", { name: `Add to Domains… ${host}` }).click();
    await page
      .getByTestId("allow-host")
      .getByRole("link", { name: new RegExp(`^${bundle}`) })
      .click();
    await expect(page.getByRole("form", { name: "Add domain" }).getByRole("textbox")).toHaveValue(host);
  } finally {
    await page.goto(`${state.baseURL}/grants`);
    await page.getByRole("button", { name: `End report-only for ${ws}` }).click();
    await expect(page.getByTestId("report-only-banner")).toHaveCount(0);
  }
});
