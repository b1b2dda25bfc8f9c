// The dashboard at phone, tablet and desktop widths, for an Owner and an Auditor: no page scrolls
// sideways, every table's key column and action buttons stay in view, and axe finds no critical
// or serious violation. Screenshots of each page are kept as test artifacts.
import AxeBuilder from "@axe-core/playwright";
import { expect, test, type Page } from "@playwright/test";
import { api, createApiKey, createUser, readDb, requestSession, SignInPage, state, unique } from "./fixtures/app";

const WIDTHS = [390, 768, 1280] as const;
const AXE_WIDTHS = new Set<number>([390, 1280]);

type Fixture = { bundle: string; channel: string; eventId: string };
let fixture: Fixture;
let auditor: { email: string; password: string };

test.beforeAll(async () => {
  // Realistic, wide content: a bundle with a credentialed connection, a long domain, a session
  // with audit events, so every table has rows.
  const ownerKey = createApiKey("owner");
  const owner = api(ownerKey);
  const bundle = unique("layout");
  const ws = `T0${unique("L")
    .replace(/[^A-Za-z0-9]/g, "")
    .toUpperCase()}`.slice(0, 20);
  const doc = (await owner.get("/policy")).json;
  doc.bundles.push({
    name: bundle,
    scope: { type: "workspace", workspace: ws },
    domains: ["registry.npmjs.org", `${"a".repeat(60)}.${"b".repeat(60)}.example.com`],
    connections: [
      {
        name: "github",
        serviceAccount: "a-rather-long-service-account-name@acme.example",
        inject: { type: "bearer" },
        allowedWebsites: ["api.github.com", "uploads.github.com", `${"c".repeat(60)}.example.com`],
        narrow: { pathPrefix: "/repos/acme/", methods: "read_only" },
      },
    ],
  });
  const put = await owner.put("/policy", doc);
  expect(put.status, put.text).toBe(200);
  expect((await owner.put(`/connections/${bundle}/github/credential`, { secret: "fake-layout-token-1" })).status).toBe(204);
  const orch = createApiKey("orchestrator");
  expect((await requestSession(orch, { workspace: ws, channel: "C0LAYOUT" })).status).toBe(201);
  const eventId = readDb((db) => (db.prepare("SELECT id FROM audit_events ORDER BY seq DESC LIMIT 1").get() as { id: string }).id);
  fixture = { bundle, channel: `${ws}/C0LAYOUT`, eventId };
  auditor = createUser("auditor", "layout-auditor-password-1");
});

function pages(role: "owner" | "auditor"): [string, string][] {
  const b = `/bundles/${encodeURIComponent(fixture.bundle)}`;
  const list: [string, string][] = [
    ["overview", "/"],
    ["bundles", "/bundles"],
    ["bundle-connections", `${b}?tab=connections`],
    ["bundle-domains", `${b}?tab=domains`],
    ["bundle-scope", `${b}?tab=scope`],
    ["channels", "/channels"],
    [
      "explain",
      `/explain?channel=${encodeURIComponent(fixture.channel)}&method=GET&url=${encodeURIComponent("https://api.github.com/repos/acme/app")}`,
    ],
    ["members", "/members"],
    ["sessions", "/sessions"],
    ["audit", "/audit"],
    ["audit-event", `/audit?event=${encodeURIComponent(fixture.eventId)}`],
    ["settings", "/settings"],
  ];
  if (role === "owner") list.push(["connection-new", `${b}/connections/new`], ["connection-edit", `${b}/connections/github`]);
  return list;
}

/** What lies outside the viewport or widens the page, measured in the browser. */
async function layoutProblems(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const problems: string[] = [];
    const vw = window.innerWidth;
    const se = document.scrollingElement!;
    if (se.scrollWidth > vw) problems.push(`page scrolls sideways: scrollWidth ${se.scrollWidth} > ${vw}`);
    const within = (r: DOMRect, left: number, right: number) => r.left >= left - 1 && r.right <= right + 1;
    const describe = (el: Element) => (el.textContent ?? "").trim().slice(0, 40) || el.getAttribute("aria-label") || el.tagName;
    for (const region of Array.from(document.querySelectorAll("[data-table-scroll]"))) {
      const box = region.getBoundingClientRect();
      if (box.width === 0) continue;
      const name = region.getAttribute("aria-label");
      if (!within(box, 0, vw))
        problems.push(`table "${name}" card is outside the viewport (${Math.round(box.left)}..${Math.round(box.right)})`);
      const firstKey = region.querySelector("thead th");
      if (firstKey && !within(firstKey.getBoundingClientRect(), Math.max(0, box.left), Math.min(vw, box.right)))
        problems.push(`table "${name}": first column is not visible`);
      // Action buttons (the sticky column) must be visible without scrolling the table.
      for (const action of Array.from(region.querySelectorAll("td.sticky button, td.sticky a")).slice(0, 10)) {
        const r = action.getBoundingClientRect();
        if (!within(r, Math.max(0, box.left), Math.min(vw, box.right)))
          problems.push(`table "${name}": action "${describe(action)}" is out of view (${Math.round(r.left)}..${Math.round(r.right)})`);
      }
    }
    const sheet = document.querySelector("[data-testid=event-sheet]");
    if (sheet && !within(sheet.getBoundingClientRect(), 0, vw)) problems.push("the audit event sheet is outside the viewport");
    return problems;
  });
}

async function seriousViolations(page: Page): Promise<string[]> {
  const result = await new AxeBuilder({ page }).analyze();
  return result.violations
    .filter((v) => v.impact === "critical" || v.impact === "serious")
    .map(
      (v) =>
        `${v.impact} ${v.id} (${v.nodes.length}): ${v.nodes
          .slice(0, 3)
          .map((n) => n.target.join(" "))
          .join(" | ")}`,
    );
}

for (const role of ["owner", "auditor"] as const) {
  for (const width of WIDTHS) {
    test(`${role} at ${width}px: no sideways scroll, tables in view, no serious axe violations`, async ({ page }) => {
      test.setTimeout(240_000);
      await page.setViewportSize({ width, height: 900 });
      const who = role === "owner" ? state.owner : auditor;
      await new SignInPage(page).signInOk(who.email, who.password);
      for (const [name, path] of pages(role)) {
        const res = await page.goto(state.baseURL + path);
        expect(res?.status(), `${name} loads`).toBe(200);
        await expect(page.locator("main h1").first()).toBeVisible();
        await page.screenshot({ path: test.info().outputPath(`${role}-${width}-${name}.png`), fullPage: true });
        expect.soft(await layoutProblems(page), `${name} at ${width}px`).toEqual([]);
        if (AXE_WIDTHS.has(width)) expect.soft(await seriousViolations(page), `axe on ${name} at ${width}px`).toEqual([]);
      }
    });
  }
}

test("the sign-in page fits a phone and passes axe", async ({ page }) => {
  await page.setViewportSize({ width: 360, height: 740 });
  await page.goto(`${state.baseURL}/signin`);
  await page.screenshot({ path: test.info().outputPath("signin-360.png") });
  expect(await layoutProblems(page)).toEqual([]);
  expect(await seriousViolations(page)).toEqual([]);
});

test("below 768px the navigation sits behind a menu button", async ({ page }) => {
  await page.setViewportSize({ width: 390, height: 800 });
  await new SignInPage(page).signIn(state.owner.email, state.owner.password);
  const menu = page.getByRole("button", { name: "Menu" });
  await expect(menu).toBeVisible();
  const nav = page.getByRole("navigation", { name: "Main" });
  await expect(nav).toBeHidden();
  await menu.click();
  await expect(page.getByRole("button", { name: "Close menu" })).toHaveAttribute("aria-expanded", "true");
  await nav.getByRole("link", { name: "Sessions" }).click();
  await expect(page.getByRole("heading", { name: "Sessions", exact: true })).toBeVisible();
  await expect(nav).toBeHidden();
  // From 768 px up the sidebar is always there and the button is gone.
  await page.setViewportSize({ width: 1024, height: 800 });
  await expect(nav).toBeVisible();
  await expect(menu).toBeHidden();
});
