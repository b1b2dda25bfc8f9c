// The embedded route /proxy/{scheme}/{host}/{path} answers on the dashboard's origin: it must not
// carry the dashboard's cookies or Authorization upstream, nor let an upstream set a cookie on
// that origin or run a page there.
import { expect, test } from "@playwright/test";
import { state } from "./fixtures/app";
import { sessionWithBundle, type ProxySession } from "./fixtures/proxy-client";
import { startRawUpstream, type RawUpstream } from "./fixtures/raw-upstream";
import { startUpstreams, type Upstreams } from "./fixtures/upstreams";

let up: Upstreams;
let raw: RawUpstream;
let s: ProxySession;

test.beforeAll(async () => {
  up = await startUpstreams();
  raw = await startRawUpstream();
  s = await sessionWithBundle("T0EMBEDDED", { domains: [`registry.gh.test:${up.httpPort}`, `ws.gh.test:${raw.port}`] });
});

test.afterAll(async () => {
  await Promise.all([up.close(), raw.close()]);
});

const expectConfined = (headers: Headers) => {
  expect(headers.get("content-security-policy")).toBe("sandbox");
  expect(headers.get("x-content-type-options")).toBe("nosniff");
  expect(headers.get("set-cookie")).toBeNull();
};

test("the sandbox's Cookie and Authorization stay on the dashboard's side; the token never goes upstream", async () => {
  const res = await fetch(`${state.baseURL}/proxy/http/registry.gh.test:${up.httpPort}/embedded/echo`, {
    headers: {
      "Proxy-Authorization": `Bearer ${s.token}`,
      Cookie: "next-auth.session-token=fake-dashboard-session",
      Authorization: "Basic ZmFrZTpub3QtcmVhbA==",
    },
  });
  expect(res.status).toBe(200);
  expectConfined(res.headers);
  const seen = up.received.find((r) => r.url === "/embedded/echo")!;
  expect(seen.headers.cookie).toBeUndefined();
  expect(seen.headers.authorization).toBeUndefined();
  expect(JSON.stringify(seen.headers)).not.toContain(s.token);
});

test("an upstream's cookies and its own CSP do not reach the dashboard's origin; its page is sandboxed and unsniffed", async () => {
  const cookieRes = await fetch(`${state.baseURL}/proxy/http/registry.gh.test:${up.httpPort}/login-cookie`, {
    headers: { "Proxy-Authorization": `Bearer ${s.token}` },
  });
  expect(cookieRes.status).toBe(200);
  expectConfined(cookieRes.headers);
  const page = await fetch(`${state.baseURL}/proxy/http/ws.gh.test:${raw.port}/page`, {
    headers: { "Proxy-Authorization": `Bearer ${s.token}` },
  });
  expect(page.status).toBe(200);
  expect(page.headers.get("content-type")).toBe("text/html");
  expectConfined(page.headers);
  expect(page.headers.get("set-cookie2")).toBeNull();
  expect(await page.text()).toContain("<script>");
});

test("Gatehouse's own refusals on the route are confined the same way", async () => {
  const res = await fetch(`${state.baseURL}/proxy/http/evil.gh.test:${up.httpPort}/x`, {
    headers: { "Proxy-Authorization": `Bearer ${s.token}` },
  });
  expect(res.status).toBe(403);
  expectConfined(res.headers);
});
