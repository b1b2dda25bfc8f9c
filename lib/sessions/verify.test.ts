import { describe, expect, it } from "vitest";
import { AppError } from "../errors";
import { createSession } from "../services/sessions/create-session";
import { revokeSession } from "../services/sessions/revoke-session";
import { putPolicy } from "../services/policy/put-policy";
import { updateSessionSettings } from "../services/settings/update-session-settings";
import { auditor, orchestrator, owner, testContext } from "../services/test-context";
import { DEFAULT_TOUCH_INTERVAL_MS, SessionVerifier } from "./verify";

const request = {
  workspace: "T0ACME",
  channel: "C0ENG",
  thread: "1700000000.000100",
  kind: "channel",
  member: { id: "U0ALICE", orgMember: true, roles: ["engineering"] },
};

describe("sessions against a real database", () => {
  it("grants, verifies, idles out by the injected clock, and stores only the token's hash", () => {
    const ctx = testContext();
    const s = createSession({ ctx, actor: orchestrator, input: request });
    expect(s.token).toMatch(/^gs_/);
    expect(s.env.HTTP_PROXY).toBe(`http://session:${s.token}@127.0.0.1:3128`);
    const verifier = new SessionVerifier(ctx.db);
    expect(verifier.verify(s.token, ctx.clock.now)).toMatchObject({
      ok: true,
      session: { id: s.id, channel: "C0ENG", memberId: "U0ALICE" },
    });
    // Traffic keeps it alive; silence for the idle timeout ends it.
    ctx.clock.now += 29 * 60_000;
    expect(verifier.verify(s.token, ctx.clock.now).ok).toBe(true);
    ctx.clock.now += 29 * 60_000;
    expect(verifier.verify(s.token, ctx.clock.now).ok).toBe(true);
    ctx.clock.now += 30 * 60_000;
    expect(verifier.verify(s.token, ctx.clock.now)).toEqual({ ok: false, reason: "idle" });
    expect(verifier.verify("gs_not_a_token", ctx.clock.now)).toEqual({ ok: false, reason: "unknown" });
    // Two proxy processes: traffic through one keeps the session alive for the other too.
    const other = createSession({ ctx, actor: orchestrator, input: request });
    const processA = new SessionVerifier(ctx.db);
    const processB = new SessionVerifier(ctx.db);
    expect(processB.verify(other.token, ctx.clock.now).ok).toBe(true);
    for (let i = 0; i < 4; i++) {
      ctx.clock.now += 20 * 60_000;
      expect(processA.verify(other.token, ctx.clock.now).ok).toBe(true);
    }
    expect(processB.verify(other.token, ctx.clock.now).ok).toBe(true);
    const dump =
      JSON.stringify(ctx.db.$client.prepare("SELECT * FROM sessions").all()) +
      JSON.stringify(ctx.db.$client.prepare("SELECT * FROM audit_events").all());
    expect(dump).not.toContain(s.token);
    expect(dump).not.toContain(s.token.slice(3));
  });

  it("a revoked session fails on its very next use", () => {
    const ctx = testContext();
    const verifier = new SessionVerifier(ctx.db);
    const s = createSession({ ctx, actor: orchestrator, input: request });
    expect(verifier.verify(s.token, ctx.clock.now).ok).toBe(true);
    revokeSession({ ctx, actor: orchestrator, input: { id: s.id } });
    expect(verifier.verify(s.token, ctx.clock.now)).toEqual({ ok: false, reason: "revoked" });
  });

  it("the idle timeout is configurable and the maximum lifetime holds", () => {
    const ctx = testContext();
    updateSessionSettings({ ctx, actor: owner, input: { idleTimeoutMinutes: 5, maxLifetimeHours: 1 } });
    const verifier = new SessionVerifier(ctx.db);
    const s = createSession({ ctx, actor: orchestrator, input: request });
    ctx.clock.now += 5 * 60_000;
    expect(verifier.verify(s.token, ctx.clock.now)).toEqual({ ok: false, reason: "idle" });
    const busy = createSession({ ctx, actor: orchestrator, input: request });
    for (let minute = 4; minute <= 60; minute += 4) {
      ctx.clock.now += 4 * 60_000;
      const r = verifier.verify(busy.token, ctx.clock.now);
      if (minute < 60) expect(r.ok, `minute ${minute}`).toBe(true);
      else expect(r).toEqual({ ok: false, reason: "expired" });
    }
    expect(() => updateSessionSettings({ ctx, actor: owner, input: { idleTimeoutMinutes: 0, maxLifetimeHours: 1 } })).toThrow(AppError);
  });

  it("refuses with a code, records why, and an auditor key cannot mint", () => {
    const ctx = testContext();
    putPolicy({
      ctx,
      actor: owner,
      input: { version: 1, memberAccess: { mode: "roles", roles: ["sre"], directMessages: "disabled" } },
      dryRun: false,
    });
    const refuse = (input: unknown) => {
      try {
        createSession({ ctx, actor: orchestrator, input });
      } catch (err) {
        return (err as AppError).code;
      }
      return "granted";
    };
    expect(refuse(request)).toBe("member_not_allowed");
    expect(refuse({ ...request, kind: "dm" })).toBe("dms_disabled");
    expect(refuse({ ...request, member: { ...request.member, roles: ["sre"] } })).toBe("granted");
    putPolicy({
      ctx,
      actor: owner,
      input: { version: 1, memberAccess: { mode: "anyone" }, channels: [{ workspace: "T0ACME", channel: "C0OPS" }] },
      dryRun: false,
    });
    expect(refuse(request)).toBe("channel_not_enabled");
    expect(refuse({ ...request, channel: "C0OPS" })).toBe("granted");
    expect(() => createSession({ ctx, actor: auditor, input: request })).toThrow(/may not/);
    expect(refuse({ ...request, member: { id: "" } })).toBe("invalid_field");
    const actions = (
      ctx.db.$client.prepare("SELECT action, rule FROM audit_events WHERE kind = 'access'").all() as { action: string; rule: string }[]
    ).map((e) => `${e.action}:${e.rule ?? ""}`);
    expect(actions).toEqual([
      "session.refused:member_not_allowed",
      "session.refused:dms_disabled",
      "session.granted:",
      "session.refused:channel_not_enabled",
      "session.granted:",
    ]);
  });

  it("writes traffic to last-seen at most once per touch interval, the default or an injected one", () => {
    const ctx = testContext();
    const s = createSession({ ctx, actor: orchestrator, input: request });
    const round = (verifier: SessionVerifier, interval: number) => {
      const touches: number[] = [];
      touched = touches;
      const start = ctx.clock.now;
      for (const dt of [0, interval - 1, interval, interval + 1, 2 * interval]) expect(verifier.verify(s.token, start + dt).ok).toBe(true);
      return { touches, start };
    };
    let touched: number[] = [];
    const record = (_id: string, at: number) => void touched.push(at);
    // Granted just now: the first touch is due one interval later.
    const byDefault = round(new SessionVerifier(ctx.db, record), DEFAULT_TOUCH_INTERVAL_MS);
    expect(byDefault.touches).toEqual([byDefault.start + DEFAULT_TOUCH_INTERVAL_MS, byDefault.start + 2 * DEFAULT_TOUCH_INTERVAL_MS]);
    ctx.clock.now += 2 * DEFAULT_TOUCH_INTERVAL_MS;
    // Injected: 200 ms. Its stored last-seen is the grant (these touches went nowhere), so it writes at once.
    const injected = round(new SessionVerifier(ctx.db, record, 200), 200);
    expect(injected.touches).toEqual([injected.start, injected.start + 200, injected.start + 400]);
  });
});
