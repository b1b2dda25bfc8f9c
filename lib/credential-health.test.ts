import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { credentialHealth } from "./credential-health";

const now = 10_000_000_000;
const H = 3_600_000;
const a = (ago: number, status: number) => ({ ts: now - ago, status });

describe("credentialHealth", () => {
  it("unused: set and never carried", () => {
    expect(credentialHealth({ setAt: now - H, lastUsedAt: null, recent: [], lastSuccessAt: null, now })).toMatchObject({
      state: "unused",
      neverUsedSinceSet: true,
      answers24h: 0,
      authFailureShare24h: null,
    });
    // Used before it was replaced: the new one is unused.
    expect(credentialHealth({ setAt: now - H, lastUsedAt: now - 2 * H, recent: [], lastSuccessAt: null, now }).state).toBe("unused");
  });

  it("healthy with a few refusals among successes; failing once the newest answers are 401/403", () => {
    const ok = credentialHealth({
      setAt: now - 48 * H,
      lastUsedAt: now,
      recent: [a(1, 200), a(2, 403), a(3, 200), a(4, 200)],
      lastSuccessAt: now - 1,
      now,
    });
    expect(ok).toMatchObject({ state: "healthy", answers24h: 4, authFailures24h: 1, authFailureShare24h: 0.25 });
    // Rotated at the upstream: three 401s in a row after months of 200s.
    const rotated = credentialHealth({
      setAt: now - 48 * H,
      lastUsedAt: now,
      recent: [a(1, 401), a(2, 401), a(3, 401), ...Array.from({ length: 50 }, (_, i) => a(100 + i, 200))],
      lastSuccessAt: now - 100,
      now,
    });
    expect(rotated.state).toBe("failing");
    expect(rotated.authFailureShare24h).toBeCloseTo(3 / 53);
    // A fresh credential refused at its first use is failing at once.
    expect(credentialHealth({ setAt: now - H, lastUsedAt: now, recent: [a(1, 401)], lastSuccessAt: null, now }).state).toBe("failing");
    // Two refusals after a success are not yet a streak.
    expect(
      credentialHealth({ setAt: now - H, lastUsedAt: now, recent: [a(1, 403), a(2, 403), a(3, 200)], lastSuccessAt: now - 3, now }).state,
    ).toBe("healthy");
  });

  it("failing on the 24-hour share even when the newest answer succeeded", () => {
    const h = credentialHealth({
      setAt: now - 48 * H,
      lastUsedAt: now,
      recent: [a(1, 200), a(2, 401), a(3, 401), a(4, 200), a(5, 403)],
      lastSuccessAt: now - 1,
      now,
    });
    expect(h).toMatchObject({ state: "failing", authFailures24h: 3, answers24h: 5 });
  });

  it("answers from before the credential was set do not count; nor do older than 24 hours in the share", () => {
    const h = credentialHealth({
      setAt: now - 10,
      lastUsedAt: now - 20,
      recent: [a(20, 401), a(30, 401), a(40, 401)],
      lastSuccessAt: null,
      now,
    });
    expect(h).toMatchObject({ state: "unused", answers24h: 0 });
    const old = credentialHealth({
      setAt: now - 72 * H,
      lastUsedAt: now - 30 * H,
      recent: [a(30 * H, 200)],
      lastSuccessAt: now - 30 * H,
      now,
    });
    expect(old).toMatchObject({ state: "healthy", answers24h: 0, authFailureShare24h: null });
  });

  it("never throws, and the share is always within [0, 1]", () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ ago: fc.nat(100 * H), status: fc.constantFrom(200, 204, 301, 401, 403, 404, 500, 502) })),
        fc.nat(100 * H),
        (answers, setAgo) => {
          const recent = answers.map((x) => a(x.ago, x.status)).sort((x, y) => y.ts - x.ts);
          const h = credentialHealth({ setAt: now - setAgo, lastUsedAt: recent[0]?.ts ?? null, recent, lastSuccessAt: null, now });
          expect(["healthy", "failing", "unused"]).toContain(h.state);
          if (h.authFailureShare24h !== null) expect(h.authFailureShare24h).toBeGreaterThanOrEqual(0);
          if (h.authFailureShare24h !== null) expect(h.authFailureShare24h).toBeLessThanOrEqual(1);
        },
      ),
    );
  });
});
