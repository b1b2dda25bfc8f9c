// Dashboard sessions are revocable (#13 item 5): a copied session cookie stops working after
// sign-out and after each event that ends a user's sessions, and cannot renew itself.
import { expect, test } from "@playwright/test";
import { cli, createUser, readDb, SignInPage, state, unique } from "./fixtures/app";
import { cookiesOf, csrf, request, signInHttp } from "./fixtures/dashboard-http";

const SOURCE = "127.0.0.41";

async function signedIn(email: string, password: string): Promise<string> {
  const r = await signInHttp(email, password, SOURCE);
  expect(r.error).toBeNull();
  return `next-auth.session-token=${r.session}`;
}

/** What the copied cookie still opens: a page, an API read, and next-auth's session renewal. */
async function opens(cookie: string) {
  const settings = await request({ path: "/settings", headers: { cookie }, source: SOURCE });
  const policy = await request({ path: "/api/v1/policy", headers: { cookie }, source: SOURCE });
  const session = await request({ path: "/api/auth/session", headers: { cookie }, source: SOURCE });
  const renewed = cookiesOf(session)["next-auth.session-token"];
  return {
    page: settings.status === 200 && settings.body.includes("Users"),
    api: policy.status === 200,
    session: session.body !== "{}" && session.body.includes("userId"),
    renewed: !!renewed,
  };
}

const ALL_OPEN = { page: true, api: true, session: true, renewed: true };
const ALL_CLOSED = { page: false, api: false, session: false, renewed: false };

test("a copied cookie is refused after sign-out, and renewal does not bring it back", async () => {
  const user = createUser("owner", "signout-password-fake-1");
  const cookie = await signedIn(user.email, user.password);
  expect(await opens(cookie)).toEqual(ALL_OPEN);
  // Sign out as the browser does: next-auth's CSRF-checked POST.
  const c = await csrf(SOURCE);
  const out = await request({
    method: "POST",
    path: "/api/auth/signout",
    headers: { "content-type": "application/x-www-form-urlencoded", cookie: `${c.cookie}; ${cookie}` },
    body: new URLSearchParams({ csrfToken: c.token, json: "true" }).toString(),
    source: SOURCE,
  });
  expect(out.status).toBeLessThan(400);
  expect(await opens(cookie)).toEqual(ALL_CLOSED);
  // A fresh sign-in works again.
  expect(await opens(await signedIn(user.email, user.password))).toEqual(ALL_OPEN);
});

test("a password change, a role change, a lock and removing the user each end the user's sessions", async () => {
  test.setTimeout(120_000);
  const events: [string, (user: { email: string; password: string }) => Promise<void> | void][] = [
    [
      "password change",
      (u) =>
        void expect(
          cli(["user", "set-password", "--email", u.email], { env: { GATEHOUSE_PASSWORD: "changed-password-fake-1" } }).code,
        ).toBe(0),
    ],
    ["role change", (u) => void expect(cli(["user", "set-role", "--email", u.email, "--role", "auditor"]).code).toBe(0)],
    [
      "lock",
      async (u) => {
        for (let i = 0; i < 5; i++) await signInHttp(u.email, `wrong-${i}`, "127.0.0.42");
      },
    ],
    ["removal", (u) => void expect(cli(["user", "remove", "--email", u.email]).code).toBe(0)],
  ];
  for (const [name, trigger] of events) {
    const user = createUser("owner", "revoke-password-fake-1");
    const cookie = await signedIn(user.email, user.password);
    expect(await opens(cookie), name).toEqual(ALL_OPEN);
    await trigger(user);
    expect(await opens(cookie), name).toEqual(ALL_CLOSED);
  }
});

test("the session cookie says what it is and nothing more", async () => {
  const cookie = await signedIn(state.owner.email, state.owner.password);
  const session = await request({ path: "/api/auth/session", headers: { cookie }, source: SOURCE });
  expect(Object.keys(JSON.parse(session.body)).sort()).toEqual(["claims", "expires", "userId"]);
});

test("after the dashboard's Sign out button, a server action replayed with the copied cookie is refused", async ({ page, context }) => {
  const owner = createUser("owner", "action-password-fake-1");
  await new SignInPage(page).signInOk(owner.email, owner.password);
  await page.goto(state.baseURL + "/settings");
  // Capture a real server action (Add user) and the session cookie it rode on.
  const first = `${unique("before")}@gatehouse.test`;
  const captured = page.waitForRequest((r) => r.method() === "POST" && !!r.headers()["next-action"]);
  await page.getByLabel("Email").fill(first);
  await page.getByLabel("Initial password").fill("added-password-fake-1");
  await page.getByRole("button", { name: "Add user" }).click();
  const action = await captured;
  await expect(page.getByText("User added.")).toBeVisible();
  const cookie = (await context.cookies()).find((c) => c.name === "next-auth.session-token")!;
  const replay = (email: string) =>
    request({
      method: "POST",
      path: "/settings",
      headers: {
        "next-action": action.headers()["next-action"]!,
        "content-type": action.headers()["content-type"]!,
        cookie: `${cookie.name}=${cookie.value}`,
      },
      body: action.postDataBuffer()!.toString("utf8").split(first).join(email),
      source: SOURCE,
    });
  // The copy works while the session lives…
  const before = `${unique("live")}@gatehouse.test`;
  expect((await replay(before)).status).toBeLessThan(500);
  expect(readDb((db) => db.prepare("SELECT count(*) AS n FROM users WHERE email = ?").get(before) as { n: number }).n).toBe(1);
  // …and not after signing out in the browser.
  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page).toHaveURL(/\/signin/);
  const after = `${unique("revoked")}@gatehouse.test`;
  const res = await replay(after);
  expect(res.body).toContain("sign in or send an API key");
  expect(readDb((db) => db.prepare("SELECT count(*) AS n FROM users WHERE email = ?").get(after) as { n: number }).n).toBe(0);
});
