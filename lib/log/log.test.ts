import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import { createRootLogger } from "./index";

function capture(fmt: "json" | "pretty") {
  const out = new PassThrough();
  let text = "";
  out.on("data", (d: Buffer) => (text += d.toString()));
  return { log: createRootLogger(fmt, out), text: () => text };
}

describe("logger", () => {
  it("writes one JSON object a line with time, level, component and request id", async () => {
    const c = capture("json");
    c.log.child({ component: "proxy" }).error({ requestId: "req_1" }, "a request failed inside Gatehouse (%s)", "ECONNRESET");
    c.log.child({ component: "server" }).info("multi\nline");
    await new Promise((r) => setImmediate(r));
    const lines = c
      .text()
      .trimEnd()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({
      level: "error",
      component: "proxy",
      requestId: "req_1",
      msg: "a request failed inside Gatehouse (ECONNRESET)",
    });
    expect(new Date(lines[0].time).toISOString()).toBe(lines[0].time);
    expect(lines[1]).toMatchObject({ level: "info", msg: "multi\nline" });
  });

  it("scrubs messages and errors, however they are passed", async () => {
    const c = capture("json");
    const l = c.log.child({ component: "x" });
    l.warn("GET https://h.example/p?secret=1");
    l.error({ err: new Error("dial http://user:pass@proxy.example:3128 failed") }, "upstream");
    l.info({ n: 1 }, "with %s", "/a?token=gs_abcdefghijklmnop");
    await new Promise((r) => setImmediate(r));
    const text = c.text();
    for (const leak of ["secret=1", "user:pass", "token=", "gs_abcdefghijklmnop"]) expect(text).not.toContain(leak);
  });

  it("pretty mode prints a readable line", async () => {
    const c = capture("pretty");
    c.log.child({ component: "server" }).info("dashboard on http://127.0.0.1:3000");
    await new Promise((r) => setImmediate(r));
    expect(c.text()).toMatch(/INFO.*server: dashboard on http:\/\/127\.0\.0\.1:3000/);
  });
});
