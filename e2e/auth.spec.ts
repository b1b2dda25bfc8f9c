import { expect, test } from "@playwright/test";
import { cli, createUser, readDb, SignInPage, state, unique } from "./fixtures/app";

test("the first Owner from the environment signs in and sees the dashboard", async ({ page }) => {
  await page.goto(state.baseURL + "/");
  await expect(page).toHaveURL(/\/signin$/);
  await new SignInPage(page).signInOk(state.owner.email, state.owner.password);
  await expect(page.getByTestId("current-user")).toContainText("Owner");
  await expect(page.getByRole("heading", { name: "Overview" })).toBeVisible();
  await page.getByRole("link", { name: "Settings" }).click();
  await expect(page.getByRole("heading", { name: "Users" })).toBeVisible();
  await expect(page.getByRole("form", { name: "Add user" })).toBeVisible();
});

test("a wrong password shows an error and leaves an access event", async ({ page }) => {
  const before = readDb(
    (db) =>
      db.prepare("SELECT count(*) AS n FROM audit_events WHERE action = 'signin.failed' AND actor = ?").get(state.owner.email) as {
        n: number;
      },
  ).n;
  const signIn = new SignInPage(page);
  await signIn.signIn(state.owner.email, "not-the-password");
  await expect(signIn.error()).toContainText("Wrong email or password");
  await expect(page).toHaveURL(/\/signin/);
  const after = readDb(
    (db) =>
      db.prepare("SELECT count(*) AS n FROM audit_events WHERE action = 'signin.failed' AND actor = ?").get(state.owner.email) as {
        n: number;
      },
  ).n;
  expect(after).toBe(before + 1);
  // The failure is visible in the dashboard's audit log too.
  await signIn.signInOk(state.owner.email, state.owner.password);
  await page.goto(`${state.baseURL}/audit?kind=access&actor=${encodeURIComponent(state.owner.email)}`);
  await expect(page.getByTestId("audit-row").filter({ hasText: "signin.failed" }).first()).toBeVisible();
});

test("an account is locked after repeated failures and stays locked even with the right password", async ({ page }) => {
  const user = createUser("auditor", "lockme-password-fake-1");
  const signIn = new SignInPage(page);
  for (let i = 0; i < 5; i++) {
    await signIn.signIn(user.email, `wrong-${i}`);
    await expect(signIn.error()).toBeVisible();
  }
  await signIn.signIn(user.email, user.password);
  await expect(signIn.error()).toContainText("locked");
  await expect(page.getByTestId("current-user")).toHaveCount(0);
  const locked = readDb(
    (db) =>
      db
        .prepare("SELECT reset_at FROM sign_in_limits WHERE scope = 'account' AND subject = ? AND locked_at IS NOT NULL")
        .get(user.email) as { reset_at: number } | undefined,
  );
  expect(locked?.reset_at).toBeGreaterThan(Date.now());
  const events = readDb(
    (db) => db.prepare("SELECT action FROM audit_events WHERE actor = ? ORDER BY seq").all(user.email) as { action: string }[],
  ).map((e) => e.action);
  expect(events).toContain("signin.locked");
});

test("an Auditor signs in, sees no write actions and cannot post to one directly", async ({ browser }) => {
  // Capture the Owner's real server-action request for "Add user".
  const ownerContext = await browser.newContext();
  const ownerPage = await ownerContext.newPage();
  await new SignInPage(ownerPage).signInOk(state.owner.email, state.owner.password);
  await ownerPage.goto(state.baseURL + "/settings");
  const first = `${unique("first")}@gatehouse.test`;
  const captured = ownerPage.waitForRequest((r) => r.method() === "POST" && !!r.headers()["next-action"]);
  await ownerPage.getByLabel("Email").fill(first);
  await ownerPage.getByLabel("Initial password").fill("owner-added-password-1");
  await ownerPage.getByRole("button", { name: "Add user" }).click();
  const request = await captured;
  await expect(ownerPage.getByText("User added.")).toBeVisible();
  const actionHeaders = { "next-action": request.headers()["next-action"]!, "content-type": request.headers()["content-type"]! };
  const body = request.postDataBuffer()!.toString("utf8");

  const auditor = createUser("auditor");
  const context = await browser.newContext();
  const page = await context.newPage();
  await new SignInPage(page).signInOk(auditor.email, auditor.password);
  await expect(page.getByTestId("current-user")).toContainText("Auditor");
  await page.goto(state.baseURL + "/settings");
  await expect(page.getByRole("heading", { name: "Users" })).toBeVisible();
  await expect(page.getByRole("form", { name: "Add user" })).toHaveCount(0);
  await expect(page.getByRole("form", { name: "Create API key" })).toHaveCount(0);

  // Replay the Owner's action as the Auditor, for another email: the server refuses it.
  const victim = `${unique("smuggled")}@gatehouse.test`;
  const replay = body.split(first).join(victim);
  const res = await page.request.post(state.baseURL + "/settings", { headers: actionHeaders, data: replay });
  expect(res.status()).toBeLessThan(500);
  const refusal = await res.text();
  expect(refusal).toContain("Auditors have read-only access; ask an Owner.");
  expect(refusal).not.toContain("(user.write)");
  expect(readDb((db) => db.prepare("SELECT count(*) AS n FROM users WHERE email = ?").get(victim) as { n: number }).n).toBe(0);

  // The same replay as the Owner works, so the refusal above is the role check.
  const ok = await ownerPage.request.post(state.baseURL + "/settings", { headers: actionHeaders, data: replay });
  expect(ok.status()).toBeLessThan(500);
  expect(readDb((db) => db.prepare("SELECT count(*) AS n FROM users WHERE email = ?").get(victim) as { n: number }).n).toBe(1);
  await ownerContext.close();
  await context.close();
});

test("an Owner creates an API key on Settings: shown once, stored only as a hash", async ({ page }) => {
  await new SignInPage(page).signInOk(state.owner.email, state.owner.password);
  await page.goto(state.baseURL + "/settings");
  const name = unique("orch");
  // Settings has more than one form with a Name field (API keys, audit sinks).
  const form = page.getByRole("form", { name: "Create API key" });
  await form.getByLabel("Name").fill(name);
  await form.getByRole("button", { name: "Create key" }).click();
  const key = (await page.getByTestId("new-api-key").textContent())!.trim();
  expect(key).toMatch(/^gk_[A-Za-z0-9_-]{43}$/);
  const row = readDb((db) => db.prepare("SELECT key_hash FROM api_keys WHERE name = ?").get(name) as { key_hash: string });
  expect(row.key_hash).not.toContain(key);
  expect(row.key_hash).toMatch(/^[0-9a-f]{64}$/);
  await page.reload();
  expect(await page.content()).not.toContain(key);
  await expect(page.getByRole("row", { name: new RegExp(name) })).toContainText("active");
  page.once("dialog", (d) => void d.accept());
  await page.getByRole("button", { name: `Revoke ${name}` }).click();
  await expect(page.getByRole("row", { name: new RegExp(name) })).toContainText("revoked");
});

test("the CLI prints only the key on stdout and exits 2 on bad arguments", async () => {
  const r = cli(["apikey", "create", "--name", unique("ci"), "--role", "orchestrator"]);
  expect(r.code).toBe(0);
  expect(r.stdout).toMatch(/^gk_[A-Za-z0-9_-]{43}\n$/);
  expect(r.stderr).toContain("shown only this once");
  const bad = cli(["apikey", "create", "--name", "x", "--role", "superuser"]);
  expect(bad.code).toBe(2);
  expect(bad.stdout).toBe("");
  expect(bad.stderr).toContain("usage:");
});
