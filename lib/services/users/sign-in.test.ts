import { describe, expect, it } from "vitest";
import { findUserByEmail } from "../../../db/queries/users";
import { owner, testContext } from "../test-context";
import { addUser } from "./add-user";
import { DASHBOARD_SESSION_MAX_MS, resolveDashboardSession } from "./resolve-dashboard-session";
import { signIn, type SignInLimits } from "./sign-in";
import { unlockUser } from "./unlock-user";

const noDelay = async () => undefined;
const PASSWORD = "right-password-fake-1";

async function setup() {
  const ctx = testContext();
  await addUser({ ctx, actor: owner, input: { email: "owner@example.com", role: "owner", password: PASSWORD } });
  return ctx;
}

function checked(ctx: ReturnType<typeof testContext>, email: string): number {
  return ctx.db.$client
    .prepare("SELECT count(*) FROM audit_events WHERE actor = ? AND (action = 'signin.succeeded' OR reason LIKE '%guess%')")
    .pluck()
    .get(email) as number;
}

describe("signIn", () => {
  it("checks at most 5 guesses however many arrive together, then locks even the right password out", async () => {
    const ctx = await setup();
    const results = await Promise.all(
      Array.from({ length: 40 }, (_, i) => signIn({ ctx, input: { email: "owner@example.com", password: `wrong-${i}` }, delay: noDelay })),
    );
    expect(checked(ctx, "owner@example.com")).toBe(5);
    expect(results.filter((r) => !r.ok && r.reason === "invalid")).toHaveLength(4);
    expect(results.filter((r) => !r.ok && r.reason === "locked")).toHaveLength(36);
    expect(await signIn({ ctx, input: { email: "owner@example.com", password: PASSWORD }, delay: noDelay })).toEqual({
      ok: false,
      reason: "locked",
    });
    ctx.clock.now += 15 * 60 * 1000;
    expect((await signIn({ ctx, input: { email: "owner@example.com", password: PASSWORD }, delay: noDelay })).ok).toBe(true);
  });

  it("answers an unknown email exactly as a known one, guess by guess, delays included", async () => {
    const ctx = await setup();
    const answers = async (email: string) => {
      const delays: number[] = [];
      const out: string[] = [];
      for (let i = 0; i < 7; i++) {
        const r = await signIn({ ctx, input: { email, password: `wrong-${i}` }, delay: async (ms) => void delays.push(ms) });
        out.push(r.ok ? "ok" : r.reason);
      }
      return { out, delays };
    };
    const known = await answers("owner@example.com");
    const unknown = await answers("nobody@example.com");
    expect(unknown).toEqual(known);
    expect(known.out).toEqual(["invalid", "invalid", "invalid", "invalid", "locked", "locked", "locked"]);
  });

  it("throttles one source across accounts, without touching other sources", async () => {
    const ctx = await setup();
    const limits: SignInLimits = { perAccount: 5, lockMs: 60_000, perSource: 3, sourceWindowMs: 60_000, refusalsRecorded: 20 };
    for (let i = 0; i < 3; i++)
      expect(
        await signIn({ ctx, input: { email: `u${i}@example.com`, password: "x", source: "203.0.113.9" }, delay: noDelay, limits }),
      ).toEqual({ ok: false, reason: "invalid" });
    expect(
      await signIn({ ctx, input: { email: "owner@example.com", password: PASSWORD, source: "203.0.113.9" }, delay: noDelay, limits }),
    ).toEqual({ ok: false, reason: "throttled" });
    expect(
      (await signIn({ ctx, input: { email: "owner@example.com", password: PASSWORD, source: "198.51.100.1" }, delay: noDelay, limits })).ok,
    ).toBe(true);
  });

  it("records only so many refusals per source, however many arrive", async () => {
    const ctx = await setup();
    const limits: SignInLimits = { perAccount: 5, lockMs: 60_000, perSource: 50, sourceWindowMs: 60_000, refusalsRecorded: 3 };
    const events = () => ctx.db.$client.prepare("SELECT count(*) FROM audit_events WHERE action = 'signin.failed'").pluck().get() as number;
    for (let i = 0; i < 5; i++)
      await signIn({ ctx, input: { email: "owner@example.com", password: "nope", source: "203.0.113.7" }, delay: noDelay, limits });
    const afterLock = events();
    for (let i = 0; i < 30; i++)
      expect(
        await signIn({ ctx, input: { email: "owner@example.com", password: "nope", source: "203.0.113.7" }, delay: noDelay, limits }),
      ).toEqual({ ok: false, reason: "locked" });
    expect(events() - afterLock).toBe(3);
    ctx.clock.now += 60_000;
    await signIn({ ctx, input: { email: "someone@example.com", password: "nope", source: "203.0.113.7" }, delay: noDelay, limits });
    expect(events() - afterLock).toBe(4);
  });

  it("refuses an oversized email without checking or storing it whole", async () => {
    const ctx = await setup();
    const huge = "a".repeat(10_000_000) + "@example.com";
    expect(await signIn({ ctx, input: { email: huge, password: "x" }, delay: noDelay })).toEqual({ ok: false, reason: "email_too_long" });
    const longest = ctx.db.$client.prepare("SELECT max(length(actor)) FROM audit_events").pluck().get() as number;
    expect(longest).toBeLessThanOrEqual(254);
  });

  it("an Owner's lock ends with an unlock; the lock ended the Owner's sessions", async () => {
    const ctx = await setup();
    const user = findUserByEmail(ctx.db, "owner@example.com")!;
    const claims = { sub: user.id, sv: user.sessionVersion, authTime: ctx.now() };
    expect(resolveDashboardSession({ ctx, claims })).not.toBeNull();
    for (let i = 0; i < 5; i++) await signIn({ ctx, input: { email: "owner@example.com", password: "nope" }, delay: noDelay });
    expect(resolveDashboardSession({ ctx, claims })).toBeNull();
    expect(unlockUser({ ctx, actor: owner, input: { email: "owner@example.com" } })).toEqual({ wasLocked: true });
    expect((await signIn({ ctx, input: { email: "owner@example.com", password: PASSWORD }, delay: noDelay })).ok).toBe(true);
  });
});

describe("resolveDashboardSession", () => {
  it("holds the absolute lifetime from sign-in, however the cookie was renewed", async () => {
    const ctx = await setup();
    const user = findUserByEmail(ctx.db, "owner@example.com")!;
    const claims = { sub: user.id, sv: user.sessionVersion, authTime: ctx.now() };
    ctx.clock.now += DASHBOARD_SESSION_MAX_MS - 1;
    expect(resolveDashboardSession({ ctx, claims })?.email).toBe("owner@example.com");
    ctx.clock.now += 1;
    expect(resolveDashboardSession({ ctx, claims })).toBeNull();
    expect(resolveDashboardSession({ ctx, claims: { sub: user.id, sv: user.sessionVersion } })).toBeNull();
  });
});
