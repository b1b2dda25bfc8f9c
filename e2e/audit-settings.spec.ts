// Settings → Audit streaming and Audit retention in Chromium, against the shared Gatehouse: field
// errors, the write-only signing secret never rendered back, a test event to a real HTTPS
// receiver, the lag on the Overview, and every change audited.
import fs from "node:fs";
import path from "node:path";
import { expect, test } from "@playwright/test";
import { webhookReceiver } from "./fixtures/audit-receivers";
import { readDb, SignInPage, state, unique } from "./fixtures/app";

const SECRET = "whsec-dashboard-secret-not-real-1";

function adminEvents(action: string): { actor: string; detail: string }[] {
  return readDb(
    (db) =>
      db.prepare("SELECT actor, detail FROM audit_events WHERE action = ? ORDER BY seq").all(action) as { actor: string; detail: string }[],
  );
}

test("an Owner adds a webhook sink with field errors first, tests it, sees its lag, and removes it", async ({ page }) => {
  test.setTimeout(120_000);
  const tlsOpts = {
    cert: fs.readFileSync(path.join(state.upstreamCertDir, "leaf.pem"), "utf8"),
    key: fs.readFileSync(path.join(state.upstreamCertDir, "leaf.key"), "utf8"),
  };
  const receiver = webhookReceiver(tlsOpts, SECRET);
  await receiver.start();
  try {
    await new SignInPage(page).signInOk(state.owner.email, state.owner.password);
    await page.goto(`${state.baseURL}/settings`);
    const name = unique("siem");
    const form = page.getByRole("form", { name: "Add a sink" });
    await form.getByLabel("Name").fill(name);
    await form.getByLabel("Type").selectOption("webhook");
    await form.getByLabel("Address").fill(`http://localhost:${receiver.port}/ingest`);
    await form.getByRole("button", { name: "Add sink" }).click();
    await expect(form.getByText("must be an https:// URL")).toBeVisible();
    await expect(form.getByText("is required: the receiver checks X-Gatehouse-Signature with it")).toBeVisible();
    // What was typed stays for the correction.
    await expect(form.getByLabel("Name")).toHaveValue(name);

    await form.getByLabel("Address").fill(`https://localhost:${receiver.port}/ingest`);
    await form.getByLabel("Signing secret").fill(SECRET);
    await form.getByRole("button", { name: "Add sink" }).click();
    await expect(form.getByText("Sink added; delivery starts within a second.")).toBeVisible();
    const row = page.getByTestId("sink-row").filter({ hasText: name });
    await expect(row).toContainText("signing secret set");
    await expect(form.getByLabel("Name")).toHaveValue("");
    // The secret is never rendered back, in the page or the form.
    expect(await page.content()).not.toContain(SECRET);

    await row.getByRole("button", { name: `Send a test event to ${name}` }).click();
    await expect(row.getByText("The test event was delivered.")).toBeVisible();
    // The sender catches up with the whole live log; Settings and the Overview say so.
    await expect
      .poll(async () => (await page.reload(), await page.getByTestId("sink-row").filter({ hasText: name }).textContent()), {
        timeout: 30_000,
      })
      .toContain("caught up");
    expect(receiver.problems).toEqual([]);
    expect(receiver.events.size).toBeGreaterThan(0);
    await page.goto(`${state.baseURL}/`);
    await expect(page.getByTestId("overview-sinks")).toContainText(`Streaming to ${name}: caught up`);

    await page.goto(`${state.baseURL}/settings`);
    page.once("dialog", (d) => void d.accept());
    await page
      .getByTestId("sink-row")
      .filter({ hasText: name })
      .getByRole("button", { name: `Remove ${name}` })
      .click();
    await expect(page.getByTestId("sink-row").filter({ hasText: name })).toHaveCount(0);
    const added = adminEvents("sink.added").find((e) => e.detail.includes(name))!;
    expect(added.actor).toBe(state.owner.email);
    expect(added.detail).toContain('"secret":"[write-only]"');
    expect(adminEvents("sink.removed").some((e) => e.detail.includes(name))).toBe(true);
    expect(JSON.stringify(adminEvents("sink.added"))).not.toContain(SECRET);
    expect(fs.readFileSync(state.logFile, "utf8")).not.toContain(SECRET);
  } finally {
    await receiver.stop();
  }
});

test("an Owner sets the audit retention (a field error first), and puts it back to keep everything", async ({ page }) => {
  await new SignInPage(page).signInOk(state.owner.email, state.owner.password);
  await page.goto(`${state.baseURL}/settings`);
  const form = page.getByRole("form", { name: "Audit retention" });
  await form.getByLabel("Keep events live for (days)").fill("ten");
  await form.getByRole("button", { name: "Save retention" }).click();
  await expect(form.getByText("a whole number of days from 1 to 36500, or empty to keep everything")).toBeVisible();
  await form.getByLabel("Keep events live for (days)").fill("3650");
  await form.getByRole("button", { name: "Save retention" }).click();
  await expect(form.getByText("Audit retention saved.")).toBeVisible();
  await expect(page.getByText("Events older than 3650 day(s) move into archive segments")).toBeVisible();
  await expect(page.getByRole("button", { name: "Archive old events now" })).toBeVisible();
  await form.getByLabel("Keep events live for (days)").fill("");
  await form.getByRole("button", { name: "Save retention" }).click();
  await expect(page.getByText("Gatehouse keeps every audit event in its database.")).toBeVisible();
  const changes = adminEvents("audit_retention.changed")
    .slice(-2)
    .map((e) => JSON.parse(e.detail));
  expect(changes).toEqual([
    { before: { days: null }, after: { days: 3650 } },
    { before: { days: 3650 }, after: { days: null } },
  ]);
});
