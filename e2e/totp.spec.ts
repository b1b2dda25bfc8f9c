// The optional second factor for local password accounts: enrolment with a QR code, sign-in with
// a code computed here (otplib, as an authenticator app would), recovery codes good once.
import { generate } from "otplib";
import { expect, test, type Browser, type Page } from "@playwright/test";
import { createUser, readDb, SignInPage, state } from "./fixtures/app";

/** The code an app shows `offsetS` seconds from now (a later step, so no waiting for the clock). */
const codeAt = (secret: string, offsetS: number) => generate({ secret, epoch: Math.floor(Date.now() / 1000) + offsetS });

async function enrol(page: Page, user: { email: string; password: string }): Promise<{ secret: string; recoveryCodes: string[] }> {
  await new SignInPage(page).signInOk(user.email, user.password);
  await page.goto(`${state.baseURL}/two-factor`);
  await page.getByRole("button", { name: "Set up two-factor authentication" }).click();
  const qr = page.getByRole("img", { name: "QR code for your authenticator app" });
  await expect(qr).toHaveAttribute("src", /^data:image\/png;base64,/);
  // Loaded, so the page's CSP let the data: image through.
  expect(await qr.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth > 0)).toBe(true);
  const secret = (await page.getByTestId("totp-secret").textContent())!.trim();
  await page.getByLabel("Code from the app").fill(await codeAt(secret, 0));
  await page.getByRole("button", { name: "Turn on" }).click();
  const list = page.getByTestId("recovery-codes").locator("li");
  await expect(list).toHaveCount(10);
  return { secret, recoveryCodes: await list.allTextContents() };
}

async function passwordStep(browser: Browser, user: { email: string; password: string }): Promise<Page> {
  const page = await (await browser.newContext()).newPage();
  await new SignInPage(page).signIn(user.email, user.password);
  await expect(page.locator("[data-alert]")).toContainText("Enter the 6-digit code");
  return page;
}

test("a local account enrols with a QR code, then signs in with a code from the app, and with a recovery code once", async ({
  page,
  browser,
}) => {
  const user = createUser("auditor", "totp-password-fake-1");
  const { secret, recoveryCodes } = await enrol(page, user);
  await page.goto(`${state.baseURL}/two-factor`);
  await expect(page.getByText("Two-factor authentication is on")).toBeVisible();
  // The recovery codes were shown once: not on the page again, and stored only hashed.
  await expect(page.getByTestId("recovery-codes")).toHaveCount(0);
  const row = readDb((d) => JSON.stringify(d.prepare("SELECT * FROM users WHERE email = ?").get(user.email)));
  expect(row).not.toContain(secret);
  for (const c of recoveryCodes) expect(row).not.toContain(c);

  // Password alone is not enough; a wrong code is refused; the next step's code lets them in.
  const second = await passwordStep(browser, user);
  await expect(second.getByTestId("current-user")).toHaveCount(0);
  await second.getByLabel("Authentication code").fill("000000");
  await second.getByRole("button", { name: "Sign in", exact: true }).click();
  await expect(second.locator("[data-alert]")).toContainText("Wrong or already used code");
  await second.getByLabel("Authentication code").fill(await codeAt(secret, 30));
  await second.getByRole("button", { name: "Sign in", exact: true }).click();
  await expect(second.getByTestId("current-user")).toContainText(user.email);

  // A recovery code signs in once.
  for (const expected of ["in", "refused"]) {
    const p = await passwordStep(browser, user);
    await p.getByLabel("Authentication code").fill(recoveryCodes[0]!);
    await p.getByRole("button", { name: "Sign in", exact: true }).click();
    if (expected === "in") await expect(p.getByTestId("current-user")).toContainText(user.email);
    else await expect(p.locator("[data-alert]")).toContainText("Wrong or already used code");
    await p.context().close();
  }
  const actions = readDb(
    (d) =>
      d
        .prepare(
          "SELECT action, reason FROM audit_events WHERE actor = ? AND (action LIKE 'totp.%' OR reason LIKE 'wrong second-factor%') ORDER BY seq",
        )
        .all(user.email) as { action: string }[],
  );
  expect(actions.map((a) => a.action)).toEqual(["totp.enabled", "signin.failed", "totp.recovery_used", "signin.failed"]);
  await second.context().close();
});

test("requiring a second factor for Owners is refused while a password Owner has none", async ({ page }) => {
  await new SignInPage(page).signInOk(state.owner.email, state.owner.password);
  await page.goto(`${state.baseURL}/settings`);
  await page.getByRole("button", { name: "Require it for Owners" }).click();
  await expect(page.getByRole("form", { name: "Second factor for Owners" }).locator("[data-alert]")).toContainText(
    "Every Owner with a password needs a second factor first",
  );
  expect(readDb((d) => d.prepare("SELECT totp_required_for_owners FROM org_settings").pluck().get())).toBe(0);
});
