import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { Freshness } from "./freshness";

function setup(maxStaleMs = 1000) {
  const clock = { t: 10_000 };
  const lines: string[] = [];
  const f = new Freshness({ maxStaleMs, now: () => clock.t, log: (l) => lines.push(l) });
  return { clock, lines, f };
}

describe("Freshness (fail closed on a stale change feed)", () => {
  it("refuses until the first confirmation, without a line for starting up", () => {
    const { f, lines } = setup();
    expect(f.refusal()).toMatch(/not connected yet; never confirmed/);
    f.confirm(10_000);
    expect(f.refusal()).toBeNull();
    expect(lines).toEqual([]);
  });

  it("admits up to the bound, refuses past it, logs each transition once, recovers by itself", () => {
    const { f, clock, lines } = setup(1000);
    f.confirm(clock.t);
    lines.length = 0;
    clock.t += 1000;
    expect(f.refusal()).toBeNull();
    f.lost("the change feed connection was lost");
    expect(f.refusal()).toBeNull();
    clock.t += 1;
    const r = f.refusal();
    expect(r).toMatch(/the change feed connection was lost; last confirmed 1\.0 s ago, limit 1\.0 s/);
    expect(f.refusal()).toBe(r);
    clock.t += 5000;
    f.tick();
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^not admitting requests \(503 policy_unavailable\)/);
    f.confirm(clock.t - 10);
    expect(f.refusal()).toBeNull();
    expect(lines).toHaveLength(2);
  });

  it("a confirmation counts from when its read started, and never moves backwards", () => {
    const { f, clock } = setup(1000);
    f.confirm(clock.t);
    clock.t += 900;
    f.confirm(clock.t - 2000); // a slow answer to an old read
    expect(f.staleForMs()).toBe(900);
    clock.t += 200;
    expect(f.refusal()).not.toBeNull();
  });

  it("a read that answered slowly does not confirm the time it answered", () => {
    const { f, clock } = setup(1000);
    const sent = clock.t;
    clock.t += 1500; // the query took 1.5 s
    f.confirm(sent);
    expect(f.refusal()).not.toBeNull();
  });

  it("is fresh exactly when the last confirmation is within the bound (any sequence)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 5000 }),
        fc.array(fc.tuple(fc.constantFrom("advance", "confirm", "lost"), fc.integer({ min: 0, max: 3000 })), { maxLength: 40 }),
        (bound, steps) => {
          const { f, clock, lines } = setup(bound);
          let last: number | null = null;
          for (const [op, n] of steps) {
            if (op === "advance") clock.t += n;
            else if (op === "confirm") {
              const at = clock.t - Math.min(n, 100);
              last = last === null ? at : Math.max(last, at);
              f.confirm(at);
            } else f.lost("lost");
            const fresh = last !== null && clock.t - last <= bound;
            expect(f.refusal() === null).toBe(fresh);
          }
          // Transition lines alternate: refuse, admit, refuse, … (none before the first confirmation)
          lines.forEach((l, i) => expect(l).toMatch(i % 2 === 0 ? /not admitting/ : /current again; admitting requests$/));
        },
      ),
    );
  });
});
