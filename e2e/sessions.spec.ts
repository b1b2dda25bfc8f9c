import fs from "node:fs";
import { expect, test } from "@playwright/test";
import { api, createApiKey, readDb, requestSession, SignInPage, state, unique, updatePolicy } from "./fixtures/app";
import { checkLogClean } from "./fixtures/logs";

test.describe.configure({ mode: "serial" });

test("API: sessions are granted per spec, refused with each code, and only orchestrator or owner keys mint", async () => {
  const ownerKey = createApiKey("owner");
  const orch = createApiKey("orchestrator");
  const ws = "T0ACME";
  const ch = unique("C")
    .toUpperCase()
    .replace(/[^A-Z0-9]/g, "");
  await updatePolicy(ownerKey, (d) => {
    d.memberAccess = { mode: "roles", roles: ["engineering"], directMessages: "disabled" };
    delete d.channels;
  });

  const ok = await requestSession(orch, { workspace: ws, channel: ch });
  expect(ok.status).toBe(201);
  expect(ok.json.token).toMatch(/^gs_/);
  expect(ok.json.proxy.httpProxy).toBe(`http://session:${ok.json.token}@127.0.0.1:${state.proxyPort}`);
  expect(ok.json.proxy.route).toBe(`${state.baseURL}/proxy`);
  expect(ok.json.proxy.caCertUrl).toBe(`${state.baseURL}/api/v1/ca.pem`);
  expect(ok.json.env.HTTPS_PROXY).toBe(ok.json.proxy.httpProxy);
  expect(new Date(ok.json.expiresAt).getTime()).toBeGreaterThan(Date.now());

  const noRole = await requestSession(orch, { workspace: ws, channel: ch, member: { id: "U0BOB", orgMember: true, roles: ["sales"] } });
  expect(noRole.status).toBe(403);
  expect(noRole.json.error.code).toBe("member_not_allowed");
  const dm = await requestSession(orch, { workspace: ws, channel: "D0DM", kind: "dm" });
  expect(dm.json.error.code).toBe("dms_disabled");
  await updatePolicy(ownerKey, (d) => (d.channels = [{ workspace: ws, channel: "C0ONLY" }]));
  const notEnabled = await requestSession(orch, { workspace: ws, channel: ch });
  expect(notEnabled.status).toBe(403);
  expect(notEnabled.json.error.code).toBe("channel_not_enabled");
  await updatePolicy(ownerKey, (d) => delete d.channels);

  const bad = await api(orch).post("/sessions", { workspace: ws, channel: ch });
  expect(bad.status).toBe(400);
  expect(bad.json.error.field).toBeTruthy();
  expect((await requestSession(createApiKey("auditor"), { workspace: ws, channel: ch })).status).toBe(403);
  expect((await requestSession(ownerKey, { workspace: ws, channel: ch })).status).toBe(201);

  // Revoke: 204, then 404 for an unknown id; an auditor may not revoke.
  expect((await api(createApiKey("auditor")).delete(`/sessions/${ok.json.id}`)).status).toBe(403);
  expect((await api(orch).delete(`/sessions/${ok.json.id}`)).status).toBe(204);
  expect((await api(orch).delete(`/sessions/ses_nope`)).status).toBe(404);

  // The token is nowhere but in the response.
  const dump = readDb(
    (db) => JSON.stringify(db.prepare("SELECT * FROM sessions").all()) + JSON.stringify(db.prepare("SELECT * FROM audit_events").all()),
  );
  expect(dump).not.toContain(ok.json.token);
  checkLogClean(fs.readFileSync(state.logFile, "utf8"), [ok.json.token]);
  await updatePolicy(ownerKey, (d) => (d.memberAccess = { mode: "anyone", roles: [], directMessages: "enabled" }));
});

test("an Owner restricts access to a role and disables DMs; a refusal shows on Sessions and in the audit log; the Owner revokes a live session", async ({
  page,
}) => {
  const orch = createApiKey("orchestrator");
  await new SignInPage(page).signInOk(state.owner.email, state.owner.password);
  await page.getByRole("link", { name: "Members" }).click();
  await page.getByLabel(/Members holding a role/).check();
  await page.getByLabel("Roles (comma-separated)").fill("");
  await page.getByRole("button", { name: "Save member access" }).click();
  await expect(page.locator('[data-field-error="roles"]')).toContainText("at least one role");
  await page.getByLabel("Roles (comma-separated)").fill("engineering");
  await page.getByLabel(/Allow direct messages/).uncheck();
  await page.getByRole("button", { name: "Save member access" }).click();
  await expect(page.getByText("Member access saved.")).toBeVisible();

  const member = unique("U0CAROL")
    .toUpperCase()
    .replace(/[^A-Z0-9]/g, "");
  const refused = await requestSession(orch, {
    workspace: "T0ACME",
    channel: "C0ENG",
    member: { id: member, orgMember: true, roles: ["marketing"] },
  });
  expect(refused.json.error.code).toBe("member_not_allowed");
  expect((await requestSession(orch, { workspace: "T0ACME", channel: "D0X", kind: "dm" })).json.error.code).toBe("dms_disabled");
  const live = await requestSession(orch, {
    workspace: "T0ACME",
    channel: "C0ENG",
    member: { id: "U0ALICE", orgMember: true, roles: ["engineering"] },
  });
  expect(live.status).toBe(201);

  await page.getByRole("link", { name: "Sessions" }).click();
  await expect(page.getByTestId("session-refusal").filter({ hasText: member })).toContainText("member_not_allowed");
  const row = page.getByTestId(`session-${live.json.id}`);
  await expect(row).toContainText("active");
  page.once("dialog", (d) => void d.accept());
  await row.getByRole("button", { name: /Revoke session/ }).click();
  await expect(row).toContainText("revoked");
  await expect(row).toContainText(state.owner.email);

  const events = readDb(
    (db) =>
      db.prepare("SELECT action, member, rule FROM audit_events WHERE member = ? OR session_id = ?").all(member, live.json.id) as {
        action: string;
        member: string;
        rule: string | null;
      }[],
  );
  expect(events.map((e) => e.action)).toEqual(expect.arrayContaining(["session.refused", "session.granted", "session.revoked"]));
  // Restore the default for other specs.
  await updatePolicy(createApiKey("owner"), (d) => (d.memberAccess = { mode: "anyone", roles: [], directMessages: "enabled" }));
});

test("the CLI creates a session and prints the token alone on stdout", async () => {
  const { cli } = await import("./fixtures/app");
  const r = cli([
    "session",
    "create",
    "--workspace",
    "T0ACME",
    "--channel",
    "C0CLI",
    "--member",
    "U0CLI",
    "--org-member",
    "--role",
    "engineering",
  ]);
  expect(r.code, r.stderr).toBe(0);
  expect(r.stdout).toMatch(/^gs_[A-Za-z0-9_-]{43}\n$/);
  expect(r.stderr).toContain("HTTPS_PROXY=http://session:");
  expect(cli(["session", "create", "--workspace", "T0ACME"]).code).toBe(2);
});
