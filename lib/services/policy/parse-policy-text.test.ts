import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { AppError } from "../../errors";
import { parsePolicyText, POLICY_YAML_MAX_ENTRIES } from "./parse-policy-text";

function ms(fn: () => unknown): number {
  const t0 = performance.now();
  try {
    fn();
  } catch {
    // refusals count too
  }
  return performance.now() - t0;
}

const MB = 1024 * 1024;
function fill(unit: (i: number) => string, bytes = MB, head = ""): string {
  const parts: string[] = [head];
  let n = head.length;
  for (let i = 0; n < bytes; i++) {
    const u = unit(i);
    parts.push(u);
    n += u.length;
  }
  return parts.join("");
}

describe("parsePolicyText", () => {
  it("reads JSON with JSON.parse and YAML with the yaml package", () => {
    expect(parsePolicyText('{"version":1}')).toEqual({ version: 1 });
    expect(parsePolicyText("version: 1\norgDeny: [a.example]\n")).toEqual({ version: 1, orgDeny: ["a.example"] });
    expect(parsePolicyText("{version: 1}")).toEqual({ version: 1 });
  });

  it("refuses duplicate keys, deep nesting, alias bombs and bad JSON as 400s", () => {
    const bad = (t: string, ct?: string) => {
      try {
        parsePolicyText(t, ct);
      } catch (err) {
        return err instanceof AppError && err.status === 400 ? err.message : `unexpected ${String(err)}`;
      }
      return "accepted";
    };
    expect(bad("a: 1\nb: 2\na: 3\n")).toMatch(/duplicate key "a"/);
    expect(bad("a: " + "[".repeat(100) + "]".repeat(100))).toMatch(/deeper/);
    expect(bad("[".repeat(100) + "]".repeat(100))).toMatch(/deeper/);
    expect(bad('{"a": 1', "application/json")).toMatch(/not valid JSON/);
    const bomb = ["a: &a [x, x, x, x, x, x, x, x, x]"];
    for (let i = 1; i < 10; i++)
      bomb.push(
        `${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(9)
          .fill("*" + String.fromCharCode(96 + i))
          .join(", ")}]`,
      );
    expect(bad(bomb.join("\n"))).not.toBe("accepted");
  });

  it("answers any 1 MB shape well under a second", { timeout: 30_000 }, () => {
    const shapes: Record<string, string> = {
      "30,000 keys (the report)": Array.from({ length: 30_000 }, (_, i) => `k${i}: ${i}`).join("\n"),
      "keys, 1 MB": fill((i) => `key${i}: v${i}\n`),
      "block sequence, 1 MB": fill((i) => `  - h${i}.example.com\n`, MB, "a:\n"),
      "flow mapping, 1 MB": fill((i) => `k${i}: ${i}, `, MB, "{"),
      "flow sequence, 1 MB": fill((i) => `${i},`, MB, "a: ["),
      "nesting, 1 MB": "[".repeat(MB / 2) + "]".repeat(MB / 2),
      "one long string": "a: " + "x".repeat(MB),
      "JSON object, 1 MB": fill((i) => `"k${i}": ${i},`, MB - 10, "{") + '"z": 0}',
      "JSON nesting, 1 MB": "[".repeat(MB / 2) + "]".repeat(MB / 2),
      "duplicate keys just under the entry cap": Array.from({ length: POLICY_YAML_MAX_ENTRIES - 1 }, (_, i) => `k${i % 5000}: ${i}`).join(
        "\n",
      ),
    };
    for (const [name, text] of Object.entries(shapes)) {
      // The best of three: a busy machine adds spikes, not a different complexity. Idle here the
      // slowest shape takes ~190 ms; the quadratic parser took 6 s on 20,000 keys.
      const took = Math.min(...[0, 1, 2].map(() => ms(() => parsePolicyText(text))));
      expect(took, name).toBeLessThan(1000);
    }
  });

  it("never throws anything but a 400 AppError on arbitrary input (property)", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 400 }), (text) => {
        try {
          parsePolicyText(text);
        } catch (err) {
          expect(err).toBeInstanceOf(AppError);
          expect((err as AppError).status).toBe(400);
        }
      }),
      { numRuns: 300 },
    );
  });
});
