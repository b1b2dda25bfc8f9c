import { describe, expect, it } from "vitest";
import { database } from "../../../db/client";
import { manualClock } from "../../clock";
import { PolicyCache } from "../../policy-cache";
import { searchAudit } from "../audit/search-audit";
import { setCredential } from "../credentials/set-credential";
import { getPolicy } from "../policy/get-policy";
import { putPolicy } from "../policy/put-policy";
import { saveConnection } from "../policy/save-connection";
import { owner, testContext, type TestContext } from "../test-context";
import { expireGrants } from "./expire-grants";
import { extendGrant } from "./extend-grant";
import { grantHost } from "./grant-host";
import { revokeGrant } from "./revoke-grant";
import { endReportOnly, setReportOnly } from "./report-only";

const H = 3600_000;
const actions = async (ctx: TestContext) =>
  (await searchAudit({ ctx, actor: owner, input: { kind: "admin", limit: "100" } })).events.map((e) => e.action).reverse();
const https = (host: string) => ({ method: "GET", scheme: "https" as const, host, port: 443, path: "/", methodOverride: false });

describe("time-bound grants", () => {
  it("grants a host to a channel (its grants bundle), extends it, revokes it, all audited", async () => {
    const ctx = await testContext();
    const g = await grantHost({
      ctx,
      actor: owner,
      input: { target: { workspace: "T0ACME", channel: "C0ENG" }, pattern: "Tools.Example.", duration: "1h" },
    });
    expect(g).toEqual({
      bundle: "grants-T0ACME-C0ENG",
      pattern: "tools.example",
      expiresAt: new Date(ctx.clock.now + H).toISOString(),
      extended: false,
    });
    const b = (await getPolicy({ ctx, actor: owner })).bundles.find((x) => x.name === g.bundle)!;
    expect(b.scope).toEqual({ type: "channels", workspace: "T0ACME", channels: ["C0ENG"] });
    expect(b.domains).toEqual([{ pattern: "tools.example", expiresAt: g.expiresAt }]);
    const again = await grantHost({
      ctx,
      actor: owner,
      input: { target: { workspace: "T0ACME", channel: "C0ENG" }, pattern: "tools.example", duration: "1d" },
    });
    expect(again.extended).toBe(true);
    await extendGrant({ ctx, actor: owner, input: { bundle: g.bundle, kind: "domain", name: "tools.example", duration: "7d" } });
    await revokeGrant({ ctx, actor: owner, input: { bundle: g.bundle, kind: "domain", name: "tools.example" } });
    expect((await getPolicy({ ctx, actor: owner })).bundles.find((x) => x.name === g.bundle)!.domains).toEqual([]);
    expect(await actions(ctx)).toEqual(["grant.added", "grant.extended", "grant.extended", "grant.revoked"]);
  });

  it("refuses a past or unreadable chosen time, and a host the org-wide deny list blocks", async () => {
    const ctx = await testContext();
    const t = { target: { workspace: "T0ACME" }, pattern: "x.example" };
    await expect(
      grantHost({ ctx, actor: owner, input: { ...t, duration: "custom", until: new Date(ctx.clock.now - 1000).toISOString() } }),
    ).rejects.toMatchObject({ fields: undefined, field: "until" });
    await expect(grantHost({ ctx, actor: owner, input: { ...t, duration: "forever" } })).rejects.toMatchObject({ code: "invalid_field" });
    await putPolicy({ ctx, actor: owner, input: { version: 1, orgDeny: ["x.example"] }, dryRun: false });
    await expect(grantHost({ ctx, actor: owner, input: { ...t, duration: "1h" } })).rejects.toMatchObject({ code: "conflict" });
  });

  it("records each expiry once, however many processes sweep, and drops an expired connection's credential", async () => {
    const ctx = await testContext();
    await putPolicy({ ctx, actor: owner, input: { version: 1, bundles: [{ name: "b", scope: { type: "organization" } }] }, dryRun: false });
    await saveConnection({
      ctx,
      actor: owner,
      input: {
        bundle: "b",
        name: "gh",
        serviceAccount: "bot@acme.example",
        injectType: "bearer",
        allowedWebsites: ["api.gh.example"],
        grantDuration: "1h",
      },
    });
    await setCredential({ ctx, actor: owner, input: { bundle: "b", connection: "gh", secret: "ghp_fake_test_secret_000000000000" } });
    await grantHost({ ctx, actor: owner, input: { target: { bundle: "b" }, pattern: "tmp.example", duration: "1d" } });
    // A second process on the same database.
    const other = { ...ctx, db: database(ctx.env.dataDir) };
    expect((await expireGrants({ ctx, now: ctx.clock.now + H - 1 })).expired).toBe(0);
    const [a, b] = await Promise.all([expireGrants({ ctx, now: ctx.clock.now + H }), expireGrants({ ctx: other, now: ctx.clock.now + H })]);
    expect(a.expired + b.expired).toBe(1);
    expect((await expireGrants({ ctx: other, now: ctx.clock.now + 25 * H })).expired).toBe(1);
    expect((await getPolicy({ ctx, actor: owner })).bundles[0]!.connections).toEqual([]);
    const log = await actions(ctx);
    expect(log.filter((x) => x === "grant.expired")).toHaveLength(2);
    expect(log).toContain("credential.revoked");
  });

  it("report-only: at most 7 days, on and off audited, and PUT /policy holds to the same bound", async () => {
    const ctx = await testContext();
    await expect(
      setReportOnly({
        ctx,
        actor: owner,
        input: { workspace: "T0ACME", duration: "custom", until: new Date(ctx.clock.now + 8 * 24 * H).toISOString() },
      }),
    ).rejects.toMatchObject({ code: "invalid_field" });
    const { until } = await setReportOnly({ ctx, actor: owner, input: { workspace: "T0ACME", channel: "C0ENG", duration: "7d" } });
    expect((await getPolicy({ ctx, actor: owner })).reportOnly).toEqual([{ workspace: "T0ACME", channel: "C0ENG", until }]);
    await endReportOnly({ ctx, actor: owner, input: { workspace: "T0ACME", channel: "C0ENG" } });
    expect((await getPolicy({ ctx, actor: owner })).reportOnly).toBeUndefined();
    await expect(
      putPolicy({
        ctx,
        actor: owner,
        input: { version: 1, reportOnly: [{ workspace: "W", until: new Date(ctx.clock.now + 8 * 24 * H).toISOString() }] },
        dryRun: false,
      }),
    ).rejects.toThrow(/7 days/);
    expect(await actions(ctx)).toEqual(["report_only.enabled", "report_only.disabled"]);
  });
});

describe("the policy cache re-evaluates at the next expiry, by the injected clock", () => {
  it("recompiles and calls its listeners at the instant, not before", async () => {
    const ctx = await testContext();
    const clock = manualClock(ctx.clock.now);
    await grantHost({ ctx, actor: owner, input: { target: { workspace: "W", channel: "C" }, pattern: "t.example", duration: "1h" } });
    const cache = new PolicyCache(ctx.db, clock);
    const fired: number[] = [];
    cache.onExpiry((now) => fired.push(now));
    expect(cache.current().decide("W", "C", https("t.example")).outcome).toBe("allowlisted");
    clock.advance(H - 1);
    expect(fired).toEqual([]);
    expect(cache.current().decide("W", "C", https("t.example")).outcome).toBe("allowlisted");
    clock.advance(1);
    expect(fired).toEqual([ctx.clock.now + H]);
    expect(cache.current().decide("W", "C", https("t.example")).outcome).toBe("blocked");
  });
});
