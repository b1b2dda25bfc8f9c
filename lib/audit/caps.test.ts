import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { capDetail, capText } from "./caps";

describe("capText", () => {
  it("keeps short text as is", () => {
    expect(capText("alice@example.com", 254)).toBe("alice@example.com");
  });
  it("cuts long text visibly, within the cap, saying how much went", () => {
    const out = capText("x".repeat(10_000_000), 1024);
    expect(out.length).toBeLessThanOrEqual(1024);
    expect(out).toMatch(/…\[truncated \d+ chars\]$/);
    const n = Number(/truncated (\d+) chars/.exec(out)![1]);
    expect(out.length - `…[truncated ${n} chars]`.length + n).toBe(10_000_000);
  });
  it("never exceeds the cap and never loses the count (property)", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 3000 }), fc.integer({ min: 40, max: 2000 }), (s, max) => {
        const out = capText(s, max);
        expect(out.length).toBeLessThanOrEqual(max);
        if (s.length <= max) expect(out).toBe(s);
        else {
          const n = Number(/truncated (\d+) chars\]$/.exec(out)![1]);
          expect(s.startsWith(out.slice(0, out.length - `…[truncated ${n} chars]`.length))).toBe(true);
          expect(out.length - `…[truncated ${n} chars]`.length + n).toBe(s.length);
        }
      }),
    );
  });
});

describe("capDetail", () => {
  it("keeps valid JSON when cutting", () => {
    const big = JSON.stringify({ after: "y".repeat(200_000) });
    const out = capDetail(big, 65536);
    expect(out.length).toBeLessThan(65536);
    expect(JSON.parse(out)).toMatchObject({ truncated: true, originalLength: big.length });
  });
});
