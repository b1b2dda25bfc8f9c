// Sign-in through the company's IdP: a real OpenID Connect provider on loopback, a Gatehouse of
// its own configured by GATEHOUSE_OIDC_*, and Chromium through the whole authorization code flow.
import path from "node:path";
import Database from "better-sqlite3";
import { expect, test, type Browser, type Page } from "@playwright/test";
import { gatehouseCli, startGatehouse, type Gatehouse } from "./fixtures/gatehouse";
import { freePort } from "./fixtures/ports";
import { startTestIdp, type TestIdp } from "./fixtures/test-idp";

const LOCAL_OWNER = { email: "breakglass@example.com", password: "break-glass-password-fake-1" };
let idp: TestIdp;
let g: Gatehouse;

test.beforeAll(async () => {
  const port = await freePort();
  idp = await startTestIdp({ port: await freePort(), redirectUri: `http://127.0.0.1:${port}/api/auth/callback/oidc` });
  g = await startGatehouse(
    {
      PORT: String(port),
      GATEHOUSE_PROXY_WORKERS: "1",
      GATEHOUSE_OWNER_EMAIL: LOCAL_OWNER.email,
      GATEHOUSE_OWNER_PASSWORD: LOCAL_OWNER.password,
      GATEHOUSE_OIDC_ISSUER: idp.issuer,
      GATEHOUSE_OIDC_CLIENT_ID: idp.clientId,
      GATEHOUSE_OIDC_CLIENT_SECRET: idp.clientSecret,
      GATEHOUSE_OIDC_NAME: "Test IdP",
      GATEHOUSE_OIDC_OWNER_GROUPS: "gh-owners",
      GATEHOUSE_OIDC_AUDITOR_GROUPS: "gh-auditors",
    },
    { build: false },
  );
});

test.afterAll(async () => {
  await g?.stop();
  await idp?.close();
});

function db<T>(fn: (d: Database.Database) => T): T {
  const d = new Database(path.join(g.dataDir, "gatehouse.db"), { readonly: true });
  try {
    return fn(d);
  } finally {
    d.close();
  }
}

function eventsFor(subject: string): { action: string; kind: string; reason: string | null; detail: string | null }[] {
  return db(
    (d) =>
      d
        .prepare("SELECT action, kind, reason, detail FROM audit_events WHERE json_extract(detail, '$.subject') = ? ORDER BY seq")
        .all(subject) as never,
  );
}

let n = 0;
/** A person with their own IdP account (so no test depends on another's). */
function account(groups: string[]): { login: string; email: string } {
  const login = `user${++n}-${Date.now().toString(36)}`;
  const email = `${login}@example.com`;
  idp.accounts.set(login, { email, groups });
  return { login, email };
}

/** The IdP's login (and consent, when it asks) in a fresh browser context; ends wherever Gatehouse sends the browser. */
async function signInThroughIdp(browser: Browser, login: string, tamper?: (url: URL) => void): Promise<Page> {
  const context = await browser.newContext();
  const page = await context.newPage();
  if (tamper) {
    // Rewrites the authorization request on its way to the IdP, as an attacker in the middle would.
    await page.route(`${idp.issuer}/auth?**`, async (route) => {
      const url = new URL(route.request().url());
      if (url.searchParams.has("tampered")) return route.continue();
      tamper(url);
      url.searchParams.set("tampered", "1");
      await route.fulfill({ status: 302, headers: { location: url.toString() } });
    });
  }
  await page.goto(`${g.baseURL}/signin`);
  await page.getByRole("button", { name: "Sign in with Test IdP" }).click();
  await page.locator('input[name="login"]').fill(login);
  await page.locator('input[name="password"]').fill("any-password-fake");
  await page.getByRole("button", { name: "Sign-in" }).click();
  const consent = page.getByRole("button", { name: "Continue" });
  await Promise.race([consent.waitFor(), page.waitForURL((u) => u.origin === g.baseURL)]);
  if (page.url().startsWith(idp.issuer)) await consent.click();
  await page.waitForURL((u) => u.origin === g.baseURL);
  return page;
}

async function expectSignedInAs(page: Page, email: string, role: "Owner" | "Auditor") {
  await expect(page.getByTestId("current-user")).toContainText(email);
  await expect(page.getByTestId("current-user")).toContainText(role);
}

async function sessionOf(page: Page): Promise<Record<string, unknown>> {
  return (await (await page.request.get(`${g.baseURL}/api/auth/session`)).json()) as Record<string, unknown>;
}

test("an IdP user in the owners group signs in as an Owner, one in the auditors group as an Auditor", async ({ browser }) => {
  const owner = account(["staff", "gh-owners"]);
  const auditor = account(["gh-auditors"]);
  const o = await signInThroughIdp(browser, owner.login);
  await expectSignedInAs(o, owner.email, "Owner");
  const a = await signInThroughIdp(browser, auditor.login);
  await expectSignedInAs(a, auditor.email, "Auditor");
  await a.goto(`${g.baseURL}/settings`);
  await expect(a.getByRole("form", { name: "Add user" })).toHaveCount(0);

  const log = eventsFor(owner.login);
  expect(log.map((e) => e.action)).toEqual(["sso.user_created", "signin.succeeded"]);
  for (const e of log) {
    expect(e.kind).toBe("access");
    expect(JSON.parse(e.detail!)).toMatchObject({ method: "oidc", issuer: idp.issuer, subject: owner.login });
  }
  // No token or secret reaches the audit log.
  const all = db((d) => JSON.stringify(d.prepare("SELECT * FROM audit_events").all()));
  expect(all).not.toContain(idp.clientSecret);
  expect(all).not.toMatch(/eyJ[\w-]+\.[\w-]+\./);
  await o.context().close();
  await a.context().close();
});

test("someone in no mapped group is refused with a page that says why", async ({ browser }) => {
  const nobody = account(["staff"]);
  const page = await signInThroughIdp(browser, nobody.login);
  await expect(page).toHaveURL(/\/signin\/refused\?reason=no_role$/);
  await expect(page.getByRole("heading", { name: "You can't sign in to Gatehouse" })).toBeVisible();
  await expect(page.getByRole("status")).toContainText("not in a group that Gatehouse maps to a role");
  expect(await sessionOf(page)).toEqual({});
  expect(db((d) => d.prepare("SELECT count(*) FROM users WHERE oidc_subject = ?").pluck().get(nobody.login))).toBe(0);
  expect(eventsFor(nobody.login).map((e) => [e.action, e.reason])).toEqual([
    ["signin.failed", 'no group in claim "groups" maps to a role'],
  ]);
  await page.context().close();
});

test("a group changed at the IdP re-maps the role at the next sign-in and ends older sessions; removed from all, refused", async ({
  browser,
}) => {
  const person = account(["gh-owners"]);
  const first = await signInThroughIdp(browser, person.login);
  await expectSignedInAs(first, person.email, "Owner");

  idp.accounts.set(person.login, { email: person.email, groups: ["gh-auditors"] });
  const second = await signInThroughIdp(browser, person.login);
  await expectSignedInAs(second, person.email, "Auditor");
  // The Owner session from before the change no longer counts.
  await first.goto(`${g.baseURL}/settings`);
  await expect(first).toHaveURL(/\/signin/);

  idp.accounts.set(person.login, { email: person.email, groups: [] });
  const third = await signInThroughIdp(browser, person.login);
  await expect(third).toHaveURL(/\/signin\/refused\?reason=no_role$/);
  await second.goto(`${g.baseURL}/`);
  await expect(second).toHaveURL(/\/signin/);

  const log = eventsFor(person.login);
  expect(log.map((e) => e.action)).toEqual([
    "sso.user_created",
    "signin.succeeded",
    "sso.role_changed",
    "signin.succeeded",
    "signin.failed",
    "sso.user_removed",
  ]);
  expect(log[2]!.reason).toBe("owner → auditor from the IdP's groups");
  for (const p of [first, second, third]) await p.context().close();
});

test("a tampered state or nonce is refused: no session, no sign-in recorded", async ({ browser }) => {
  const person = account(["gh-owners"]);
  for (const param of ["state", "nonce"]) {
    let sent: URLSearchParams | undefined;
    const page = await signInThroughIdp(browser, person.login, (url) => {
      sent = new URLSearchParams(url.searchParams);
      url.searchParams.set(param, `forged-${param}`);
    });
    // Gatehouse asked for all three protections (a request without them would be refused differently).
    expect(sent?.get("state")).toBeTruthy();
    expect(sent?.get("nonce")).toBeTruthy();
    expect(sent?.get("code_challenge_method")).toBe("S256");
    await expect(page).toHaveURL(/\/signin\?.*error=/);
    await expect(page.locator("[data-alert]")).toContainText("did not complete");
    expect(await sessionOf(page)).toEqual({});
    await page.context().close();
  }
  expect(eventsFor(person.login)).toEqual([]);
  // The same person untampered gets in: the refusals were the tampering's.
  const ok = await signInThroughIdp(browser, person.login);
  await expectSignedInAs(ok, person.email, "Owner");
  await ok.context().close();
});

test("an SSO Owner turns password sign-in off in Settings; the CLI turns it back on; both audited", async ({ browser }) => {
  const owner = account(["gh-owners"]);
  const page = await signInThroughIdp(browser, owner.login);
  await expectSignedInAs(page, owner.email, "Owner");
  await page.goto(`${g.baseURL}/settings`);
  page.once("dialog", (d) => void d.accept());
  await page.getByRole("button", { name: "Turn password sign-in off" }).click();
  await expect(page.getByText("Password sign-in is off.")).toBeVisible();

  const visitor = await (await browser.newContext()).newPage();
  await visitor.goto(`${g.baseURL}/signin`);
  await expect(visitor.getByText("Password sign-in is turned off")).toBeVisible();
  await expect(visitor.getByLabel("Password")).toHaveCount(0);
  // Posting the credentials directly is refused too.
  const csrf = ((await (await visitor.request.get(`${g.baseURL}/api/auth/csrf`)).json()) as { csrfToken: string }).csrfToken;
  const posted = await visitor.request.post(`${g.baseURL}/api/auth/callback/credentials`, {
    form: { csrfToken: csrf, email: LOCAL_OWNER.email, password: LOCAL_OWNER.password, json: "true" },
    maxRedirects: 0,
  });
  expect(posted.headers()["location"] ?? JSON.stringify(await posted.json().catch(() => ({})))).toContain("error=");
  expect(await sessionOf(visitor)).toEqual({});

  const r = gatehouseCli(g, ["auth", "password", "--enable"]);
  expect(r.code, r.stderr).toBe(0);
  expect(r.stderr).toContain("password sign-in turned on");
  await visitor.goto(`${g.baseURL}/signin`);
  await visitor.getByLabel("Email").fill(LOCAL_OWNER.email);
  await visitor.getByLabel("Password").fill(LOCAL_OWNER.password);
  await visitor.getByRole("button", { name: "Sign in", exact: true }).click();
  await expectSignedInAs(visitor, LOCAL_OWNER.email, "Owner");

  const changes = db((d) =>
    d.prepare("SELECT kind, actor, outcome FROM audit_events WHERE action = 'password_signin.changed' ORDER BY seq").all(),
  );
  expect(changes.slice(-2)).toEqual([
    { kind: "access", actor: owner.email, outcome: "disabled" },
    { kind: "access", actor: "cli", outcome: "enabled" },
  ]);
  await page.context().close();
  await visitor.context().close();
});
