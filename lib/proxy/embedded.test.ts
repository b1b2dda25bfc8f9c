import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { confineToSandbox } from "./embedded";

// Each path writes its head one of the ways Node allows; all must come out confined.
const server = http.createServer((req, res) => {
  confineToSandbox(req, res);
  res.setHeader("Set-Cookie", "early=1");
  const seen = JSON.stringify({ cookie: req.headers.cookie ?? null, authorization: req.headers.authorization ?? null });
  if (req.url === "/object")
    res.writeHead(200, { "Set-Cookie": ["a=1", "b=2"], "Content-Security-Policy": "default-src *", "content-type": "text/html" });
  else if (req.url === "/reason") res.writeHead(403, "Blocked by Gatehouse: x", { "x-content-type-options": "none", "set-cookie2": "c=1" });
  else
    res.writeHead(200, ["Set-Cookie", "a=1", "Content-Security-Policy-Report-Only", "default-src *", "X-Kept", "yes", "x-kept", "again"]);
  res.end(seen);
});

let base = "";
beforeAll(async () => {
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

describe("confineToSandbox", () => {
  for (const path of ["/object", "/reason", "/array"]) {
    it(`drops cookies both ways and sets the sandbox (${path})`, async () => {
      const res = await fetch(base + path, { headers: { Cookie: "next-auth.session-token=fake", Authorization: "Bearer fake" } });
      expect(await res.json()).toEqual({ cookie: null, authorization: null });
      expect(res.headers.getSetCookie()).toEqual([]);
      expect(res.headers.get("set-cookie2")).toBeNull();
      expect(res.headers.get("content-security-policy")).toBe("sandbox");
      expect(res.headers.get("content-security-policy-report-only")).toBeNull();
      expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    });
  }

  it("keeps the reason phrase and every value of other repeated fields", async () => {
    expect((await fetch(`${base}/reason`)).statusText).toBe("Blocked by Gatehouse: x");
    expect((await fetch(`${base}/array`)).headers.get("x-kept")).toBe("yes, again");
  });
});
