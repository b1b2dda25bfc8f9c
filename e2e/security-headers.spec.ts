// Response headers on every kind of dashboard answer (#13 item 7), and pages still work under
// the nonce-based CSP in Chromium.
import { expect, test } from "@playwright/test";
import { createApiKey, SignInPage, state } from "./fixtures/app";
import { request } from "./fixtures/dashboard-http";

function expectCommon(h: Record<string, unknown>, what: string) {
  expect(h["x-frame-options"], what).toBe("DENY");
  expect(h["x-content-type-options"], what).toBe("nosniff");
  expect(h["cross-origin-opener-policy"], what).toBe("same-origin");
  expect(String(h["permissions-policy"]), what).toContain("camera=()");
  expect(String(h["content-security-policy"]), what).toContain("frame-ancestors 'none'");
}

test("pages, API answers, ca.pem and next-auth's endpoints carry the security headers", async () => {
  const key = createApiKey("auditor");
  const kinds: [string, Record<string, string>][] = [
    ["/signin", {}],
    ["/", {}],
    ["/api/v1/policy", { authorization: `Bearer ${key}` }],
    ["/api/v1/policy", {}],
    ["/api/v1/ca.pem", {}],
    ["/api/auth/csrf", {}],
    ["/api/auth/session", {}],
  ];
  const nonces = new Set<string>();
  for (const [path, headers] of kinds) {
    const res = await request({ path, headers });
    expectCommon(res.headers, path);
    const csp = String(res.headers["content-security-policy"]);
    if (path.startsWith("/api/")) {
      expect(csp, path).toContain("default-src 'none'");
    } else {
      const nonce = /'nonce-([^']+)'/.exec(csp)?.[1];
      expect(nonce, path).toBeTruthy();
      nonces.add(nonce!);
      expect(csp).toContain("object-src 'none'");
      expect(csp).toContain("base-uri 'none'");
      expect(csp).not.toMatch(/script-src[^;]*'unsafe-inline'/);
      // Next put the nonce on its scripts.
      if (res.status === 200) expect(res.body).toContain(`nonce="${nonce}"`);
    }
  }
  // A fresh nonce per response.
  const again = await request({ path: "/signin" });
  expect(nonces.has(/'nonce-([^']+)'/.exec(String(again.headers["content-security-policy"]))![1]!)).toBe(false);
});

test("sign-in and dashboard pages work in Chromium with no CSP violation", async ({ page }) => {
  const violations: string[] = [];
  page.on("console", (m) => {
    if (/Content Security Policy|Refused to (execute|load|apply)/i.test(m.text())) violations.push(m.text());
  });
  await new SignInPage(page).signInOk(state.owner.email, state.owner.password);
  for (const path of ["/settings", "/audit", "/bundles", "/"]) {
    await page.goto(state.baseURL + path);
    await expect(page.getByTestId("current-user")).toBeVisible();
  }
  // Client-side navigation (scripts running) still works.
  await page.getByRole("link", { name: "Settings" }).click();
  await expect(page.getByRole("heading", { name: "Users" })).toBeVisible();
  expect(violations).toEqual([]);
});
