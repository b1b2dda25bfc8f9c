import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import { ExpiringSockets, hostToAskFor, reportOnlyHeader, wouldBlockDetail } from "./time-bound";

describe("connections that rest on a grant", () => {
  it("are closed at its end, not before; a later lasting decision releases them", () => {
    const t = new ExpiringSockets();
    const [a, b, c] = [new PassThrough(), new PassThrough(), new PassThrough()];
    t.track([a, b], { expiresAt: 1000 });
    t.track([c], { expiresAt: 2000 });
    t.track([b], {}); // its next request was decided on a lasting rule
    expect(t.closeExpired(999)).toBe(0);
    expect(t.closeExpired(1000)).toBe(1);
    expect([a.destroyed, b.destroyed, c.destroyed]).toEqual([true, false, false]);
    expect(t.closeExpired(5000)).toBe(1);
    expect(c.destroyed).toBe(true);
    expect(t.size).toBe(0);
  });

  it("forget a connection that closed by itself", async () => {
    const t = new ExpiringSockets();
    const a = new PassThrough();
    t.track([a], { expiresAt: 1000 });
    a.destroy();
    await new Promise((r) => a.once("close", r));
    expect(t.size).toBe(0);
  });
});

describe("what the sandbox and the audit see", () => {
  it("marks report-only answers and names the host to ask for", () => {
    expect(reportOnlyHeader({})).toBeUndefined();
    expect(reportOnlyHeader({ reportOnlyUntil: Date.UTC(2026, 11, 1) })).toBe("on; until=2026-12-01T00:00:00.000Z");
    expect(
      reportOnlyHeader({
        reportOnlyUntil: Date.UTC(2026, 11, 1),
        wouldBlock: { code: "host_not_allowed", rule: "default:block", reason: "r" },
      }),
    ).toMatch(/^would-block; /);
    expect(wouldBlockDetail({ wouldBlock: { code: "host_not_allowed", rule: "default:block", reason: "r" } })).toEqual({
      wouldBlock: true,
      blockCode: "host_not_allowed",
      blockRule: "default:block",
      blockReason: "r",
    });
    expect(hostToAskFor({ scheme: "https", host: "api.example.com", port: 443 })).toBe("api.example.com");
    expect(hostToAskFor({ scheme: "http", host: "api.example.com", port: 8080 })).toBe("api.example.com:8080");
    expect(hostToAskFor({ scheme: "https", host: "::1", port: 8443 })).toBe("[::1]:8443");
  });
});
