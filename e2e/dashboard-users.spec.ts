// User management on Settings for Owners: add, change role, reset password, unlock, remove, the
// last-Owner guard, and an audit event for every change, through the real server.
import { expect, test, type Page } from "@playwright/test";
import { cli, createUser, readDb, SignInPage, state, unique } from "./fixtures/app";

function adminEvents(email: string): { action: string; actor: string; detail: string }[] {
  return readDb(
    (db) =>
      db
        .prepare(
          "SELECT action, actor, detail FROM audit_events WHERE kind = 'admin' AND action LIKE 'user.%' AND detail LIKE ? ORDER BY seq",
        )
        .all(`%${email}%`) as { action: string; actor: string; detail: string }[],
  );
}

function roleOf(email: string): string | undefined {
  return readDb((db) => (db.prepare("SELECT role FROM users WHERE email = ?").get(email) as { role: string } | undefined)?.role);
}

async function manage(page: Page, email: string) {
  await page.goto(`${state.baseURL}/settings`);
  await page.getByRole("link", { name: `Manage ${email}` }).click();
  await expect(page.getByTestId("manage-user")).toContainText(`Manage ${email}`);
  return page.getByTestId("manage-user");
}

test("an Owner adds a user; the form empties and the change is audited", async ({ page }) => {
  await new SignInPage(page).signInOk(state.owner.email, state.owner.password);
  await page.goto(`${state.baseURL}/settings`);
  const email = `${unique("added")}@gatehouse.test`;
  const form = page.getByRole("form", { name: "Add user" });
  await form.getByLabel("Email").fill(email);
  await form.getByLabel("Role").selectOption("auditor");
  await form.getByLabel("Initial password").fill("added-user-password-1");
  await form.getByRole("button", { name: "Add user" }).click();
  await expect(form.getByText("User added.")).toBeVisible();
  await expect(page.getByTestId("user-row").filter({ hasText: email })).toContainText("Auditor");
  await expect(form.getByLabel("Email")).toHaveValue("");
  await expect(form.getByLabel("Initial password")).toHaveValue("");
  expect(adminEvents(email).map((e) => e.action)).toContain("user.added");
  expect(JSON.stringify(adminEvents(email))).not.toContain("added-user-password-1");
});

test("an Owner changes a role and resets a password; both are audited and take effect", async ({ page, browser }) => {
  const user = createUser("auditor", "before-reset-password-1");
  await new SignInPage(page).signInOk(state.owner.email, state.owner.password);
  let panel = await manage(page, user.email);
  await panel.getByLabel("Role", { exact: true }).selectOption("owner");
  await panel.getByRole("button", { name: "Change role" }).click();
  await expect(panel.getByText("Role changed.")).toBeVisible();
  expect(roleOf(user.email)).toBe("owner");
  await expect(page.getByTestId("user-row").filter({ hasText: user.email })).toContainText("Owner");

  panel = await manage(page, user.email);
  await panel.getByLabel("New password").fill("after-reset-password-1");
  await panel.getByRole("button", { name: "Reset password" }).click();
  await expect(panel.getByText("Password reset.")).toBeVisible();
  await expect(panel.getByLabel("New password")).toHaveValue("");

  const events = adminEvents(user.email);
  expect(events.map((e) => e.action)).toEqual(expect.arrayContaining(["user.role_changed", "user.password_changed"]));
  const changes = events.filter((e) => e.action === "user.role_changed" || e.action === "user.password_changed");
  expect(changes.map((e) => e.actor)).toEqual([state.owner.email, state.owner.email]);
  expect(JSON.stringify(events)).not.toContain("after-reset-password-1");

  const other = await browser.newContext();
  const otherPage = await other.newPage();
  const signIn = new SignInPage(otherPage);
  await signIn.signIn(user.email, "before-reset-password-1");
  await expect(signIn.error()).toContainText("Wrong email or password");
  await signIn.signInOk(user.email, "after-reset-password-1");
  await expect(otherPage.getByTestId("current-user")).toContainText("Owner");
  await other.close();
});

test("a too-short reset password is refused on the field, and the error clears once the field is edited", async ({ page }) => {
  const user = createUser("auditor");
  await new SignInPage(page).signInOk(state.owner.email, state.owner.password);
  const panel = await manage(page, user.email);
  await panel.getByLabel("New password").fill("short");
  await panel.getByRole("button", { name: "Reset password" }).click();
  const fieldError = panel.locator("[data-field-error=manage-password]");
  await expect(fieldError).toBeVisible();
  await panel.getByLabel("New password").fill("long-enough-password-1");
  await expect(fieldError).toHaveCount(0);
  expect(adminEvents(user.email).map((e) => e.action)).not.toContain("user.password_changed");
});

test("an Owner unlocks a locked account and the user can sign in at once", async ({ page, browser }) => {
  const user = createUser("auditor", "locked-user-password-1");
  const other = await browser.newContext();
  const otherPage = await other.newPage();
  const signIn = new SignInPage(otherPage);
  for (let i = 0; i < 5; i++) {
    await signIn.signIn(user.email, `wrong-${i}`);
    await expect(signIn.error()).toBeVisible();
  }
  await signIn.signIn(user.email, user.password);
  await expect(signIn.error()).toContainText("locked");

  await new SignInPage(page).signInOk(state.owner.email, state.owner.password);
  await page.goto(`${state.baseURL}/settings`);
  const row = page.getByTestId("user-row").filter({ hasText: user.email });
  await expect(row).toContainText("locked until");
  await row.getByRole("button", { name: `Unlock ${user.email}` }).click();
  await expect(row).toContainText("active");
  expect(adminEvents(user.email).map((e) => e.action)).toContain("user.unlocked");

  await signIn.signInOk(user.email, user.password);
  await other.close();
});

test("removing a user asks first, then removes, audits and ends their access", async ({ page }) => {
  const user = createUser("auditor", "removed-user-password-1");
  await new SignInPage(page).signInOk(state.owner.email, state.owner.password);
  const panel = await manage(page, user.email);
  // Dismissing the confirmation changes nothing.
  page.once("dialog", (d) => {
    expect(d.message()).toContain(user.email);
    void d.dismiss();
  });
  await panel.getByRole("button", { name: "Remove user" }).click();
  await expect(page.getByTestId("user-row").filter({ hasText: user.email })).toBeVisible();
  expect(roleOf(user.email)).toBe("auditor");

  page.once("dialog", (d) => void d.accept());
  await panel.getByRole("button", { name: "Remove user" }).click();
  await expect(page.getByText(`Removed ${user.email}.`)).toBeVisible();
  await expect(page.getByTestId("user-row").filter({ hasText: user.email })).toHaveCount(0);
  expect(roleOf(user.email)).toBeUndefined();
  expect(adminEvents(user.email).map((e) => e.action)).toContain("user.removed");

  const signIn = new SignInPage(page);
  await page.context().clearCookies();
  await signIn.signIn(user.email, user.password);
  await expect(signIn.error()).toContainText("Wrong email or password");
});

test("the last Owner can be neither demoted nor removed, with a clear error", async ({ page }) => {
  // Make one fresh Owner the only Owner for this test, and put everything back after.
  const last = createUser("owner", "last-owner-password-1");
  const others = readDb(
    (db) => db.prepare("SELECT email FROM users WHERE role = 'owner' AND email != ?").all(last.email) as { email: string }[],
  ).map((r) => r.email);
  try {
    for (const email of others) expect(cli(["user", "set-role", "--email", email, "--role", "auditor"]).code).toBe(0);
    await new SignInPage(page).signInOk(last.email, last.password);
    const panel = await manage(page, last.email);
    await panel.getByLabel("Role", { exact: true }).selectOption("auditor");
    await panel.getByRole("button", { name: "Change role" }).click();
    await expect(panel.locator("[data-field-error=manage-role]")).toContainText("the last Owner cannot be demoted");

    page.once("dialog", (d) => void d.accept());
    await panel.getByRole("button", { name: "Remove user" }).click();
    await expect(panel.locator("[data-field-error=remove-email]")).toContainText("the last Owner cannot be removed");

    expect(roleOf(last.email)).toBe("owner");
    expect(
      adminEvents(last.email)
        .map((e) => e.action)
        .filter((a) => a === "user.role_changed" || a === "user.removed"),
    ).toEqual([]);
  } finally {
    for (const email of others) cli(["user", "set-role", "--email", email, "--role", "owner"]);
    cli(["user", "remove", "--email", last.email]);
  }
});

test("an Auditor sees no user management and a plain read-only sentence if they post anyway", async ({ page }) => {
  const auditor = createUser("auditor", "reader-password-fake-1");
  await new SignInPage(page).signInOk(auditor.email, auditor.password);
  await page.goto(`${state.baseURL}/settings?user=${encodeURIComponent(state.owner.email)}`);
  await expect(page.getByTestId("read-only-banner")).toContainText("read-only");
  await expect(page.getByTestId("manage-user")).toHaveCount(0);
  await expect(page.getByRole("link", { name: /^Manage / })).toHaveCount(0);
});
