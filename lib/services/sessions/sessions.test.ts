import { describe, expect, it } from "vitest";
import { sessionState } from "../../sessions/state";
import { accessRefusal, CreateSessionInput } from "./create-session";

const input = (over: Partial<{ kind: "channel" | "dm"; orgMember: boolean; roles: string[] }> = {}) =>
  CreateSessionInput.parse({
    workspace: "T0ACME",
    channel: "C0ENG",
    thread: "1.1",
    kind: over.kind ?? "channel",
    member: { id: "U1", orgMember: over.orgMember ?? true, roles: over.roles ?? [] },
  });

describe("who may invoke the agent", () => {
  const cases: [string, Parameters<typeof accessRefusal>[0], boolean, ReturnType<typeof input>, string | null][] = [
    ["anyone: a guest may", { mode: "anyone", roles: [], directMessages: "enabled" }, true, input({ orgMember: false }), null],
    [
      "org members: a guest may not",
      { mode: "org_members", roles: [], directMessages: "enabled" },
      true,
      input({ orgMember: false }),
      "member_not_allowed",
    ],
    ["org members: a member may", { mode: "org_members", roles: [], directMessages: "enabled" }, true, input(), null],
    [
      "roles: without the role",
      { mode: "roles", roles: ["engineering"], directMessages: "enabled" },
      true,
      input({ roles: ["sales"] }),
      "member_not_allowed",
    ],
    [
      "roles: with one of the roles",
      { mode: "roles", roles: ["engineering", "sre"], directMessages: "enabled" },
      true,
      input({ roles: ["sales", "sre"] }),
      null,
    ],
    [
      "DMs disabled refuses a DM first",
      { mode: "anyone", roles: [], directMessages: "disabled" },
      true,
      input({ kind: "dm" }),
      "dms_disabled",
    ],
    ["DMs disabled does not affect channels", { mode: "anyone", roles: [], directMessages: "disabled" }, true, input(), null],
    [
      "the member rule governs DMs too",
      { mode: "roles", roles: ["engineering"], directMessages: "enabled" },
      true,
      input({ kind: "dm", roles: [] }),
      "member_not_allowed",
    ],
    ["a channel not enabled", { mode: "anyone", roles: [], directMessages: "enabled" }, false, input(), "channel_not_enabled"],
    [
      "the channel list does not apply to DMs",
      { mode: "anyone", roles: [], directMessages: "enabled" },
      false,
      input({ kind: "dm" }),
      null,
    ],
  ];
  for (const [name, access, channelOk, req, code] of cases) {
    it(name, () => {
      const r = accessRefusal(access, channelOk, req);
      expect(r?.code ?? null).toBe(code);
      if (r) expect(r.message.length).toBeGreaterThan(20);
    });
  }
});

describe("session state with an injected clock", () => {
  const t0 = 1_700_000_000_000;
  const s = { createdAt: t0, lastSeenAt: t0, expiresAt: t0 + 24 * 3600_000, idleTimeoutSeconds: 1800, revokedAt: null };
  it("is active until the idle timeout, then idle", () => {
    expect(sessionState(s, t0 + 1799_999)).toBe("active");
    expect(sessionState(s, t0 + 1800_000)).toBe("idle");
    expect(sessionState({ ...s, lastSeenAt: t0 + 1000_000 }, t0 + 1800_000)).toBe("active");
  });
  it("ends at the maximum lifetime even when busy, and at once when revoked", () => {
    expect(sessionState({ ...s, lastSeenAt: t0 + 24 * 3600_000 - 1 }, t0 + 24 * 3600_000)).toBe("expired");
    expect(sessionState({ ...s, revokedAt: t0 + 1 }, t0 + 2)).toBe("revoked");
  });
});
