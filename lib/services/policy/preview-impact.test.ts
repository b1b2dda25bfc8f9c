import { describe, expect, it } from "vitest";
import { sqliteWriterOf } from "../../../db/client";
import { writeTransaction } from "../../../db/tx";
import { appendAuditEvents, type AuditEventInput } from "../../audit";
import { owner, testContext, auditor, type TestContext } from "../test-context";
import { addDomain, removeDomain } from "./edit-domains";
import { draftOf } from "./policy-draft";
import { previewPolicyImpact } from "./preview-impact";
import { putPolicy } from "./put-policy";
import { saveConnection } from "./save-connection";

const DAY = 24 * 3_600_000;

async function egress(ctx: TestContext, ts: number, host: string, extra: Partial<AuditEventInput> = {}) {
  await writeTransaction(ctx.db, (tx) =>
    appendAuditEvents(
      tx,
      [
        {
          kind: "egress",
          action: "egress.request",
          workspace: "T1",
          channel: "C1",
          method: "GET",
          scheme: "https",
          host,
          port: 443,
          path: "/x",
          outcome: "allowlisted",
          ...extra,
        },
      ],
      ts,
    ),
  );
}

async function setup(): Promise<TestContext> {
  const ctx = await testContext();
  await putPolicy({
    ctx,
    actor: owner,
    dryRun: false,
    input: {
      version: 1,
      orgDeny: ["*.denied.example"],
      bundles: [{ name: "b", scope: { type: "organization" }, domains: ["pkg.example.com", "old.example.com"], connections: [] }],
    },
  });
  const now = ctx.clock.now;
  for (let i = 0; i < 3; i++) await egress(ctx, now - 1000 * i, "pkg.example.com");
  await egress(ctx, now - 2000, "pkg.example.com", { path: "/y" });
  await egress(ctx, now - 8 * DAY, "old.example.com"); // outside the default window
  await egress(ctx, now - 10, "new.example.com", { outcome: "blocked" });
  return ctx;
}

const revision = (ctx: TestContext) => sqliteWriterOf(ctx.db).prepare("SELECT policy_revision FROM org_settings").pluck().get();
const events = (ctx: TestContext) => sqliteWriterOf(ctx.db).prepare("SELECT count(*) FROM audit_events").pluck().get();

describe("previewPolicyImpact with a form's draft", () => {
  it("removing a domain: distinct requests of the window, counted, with links; nothing saved", async () => {
    const ctx = await setup();
    const rev = await revision(ctx);
    const n = await events(ctx);
    const { current, draft } = await draftOf(ctx, (c) =>
      removeDomain({ ctx: c, actor: owner, input: { bundle: "b", pattern: "pkg.example.com" } }),
    );
    expect(revision(ctx)).toBe(rev);
    expect(events(ctx)).toBe(n);
    const impact = await previewPolicyImpact({ ctx, actor: owner, current, draft });
    expect(impact.replayed).toEqual({ requests: 3, events: 5, truncated: false });
    expect(impact.transitions).toHaveLength(1);
    const t = impact.transitions[0]!;
    expect(t).toMatchObject({ from: "allowlisted", to: "blocked", requests: 2, events: 4 });
    expect(t.examples[0]).toMatchObject({ url: "https://pkg.example.com/x", count: 3, workspace: "T1", channel: "C1" });
    const url = new URL(t.examples[0]!.auditUrl, "http://x");
    expect(Object.fromEntries(url.searchParams)).toMatchObject({
      kind: "egress",
      host: "pkg.example.com",
      channel: "C1",
      workspace: "T1",
      q: "/x",
    });
    expect(url.searchParams.get("event")).toMatch(/./);
    // The window is configurable: 9 days reach the old request too.
    const wide = await previewPolicyImpact({ ctx, actor: owner, current, draft, windowDays: 9 });
    expect(wide.replayed.requests).toBe(4);
  });

  it("adding a domain: blocked → allowlisted; a deny-covered one is named, not refused, in the preview", async () => {
    const ctx = await setup();
    const { draft } = await draftOf(ctx, (c) => addDomain({ ctx: c, actor: owner, input: { bundle: "b", pattern: "new.example.com" } }));
    expect((await previewPolicyImpact({ ctx, actor: owner, draft })).transitions.map((t) => [t.from, t.to, t.events])).toEqual([
      ["blocked", "allowlisted", 1],
    ]);
    const denied = await draftOf(ctx, (c) => addDomain({ ctx: c, actor: owner, input: { bundle: "b", pattern: "a.denied.example" } }));
    const impact = await previewPolicyImpact({ ctx, actor: owner, draft: denied.draft });
    expect(impact.deniedEntries).toEqual([{ bundle: "b", pattern: "a.denied.example", deniedBy: "*.denied.example" }]);
    // The save itself refuses it unless confirmed.
    await expect(addDomain({ ctx, actor: owner, input: { bundle: "b", pattern: "a.denied.example" } })).rejects.toThrow(/changes nothing/);
    await addDomain({ ctx, actor: owner, input: { bundle: "b", pattern: "a.denied.example", acceptDenied: true } });
    await expect(
      saveConnection({
        ctx,
        actor: owner,
        input: { bundle: "b", name: "svc", serviceAccount: "s@acme.example", allowedWebsites: ["x.denied.example"] },
      }),
    ).rejects.toThrow(/allowedWebsites: .*changes nothing/);
  });

  it("a connection with a credential typed in the same save: blocked → credentialed", async () => {
    const ctx = await setup();
    const { draft } = await draftOf(ctx, (c) =>
      saveConnection({
        ctx: c,
        actor: owner,
        input: { bundle: "b", name: "svc", serviceAccount: "s@acme.example", allowedWebsites: ["new.example.com"] },
      }),
    );
    const withKey = await previewPolicyImpact({ ctx, actor: owner, draft, addedCredentials: ["b/svc"] });
    expect(withKey.transitions.map((t) => [t.from, t.to])).toEqual([["blocked", "credentialed"]]);
    const without = await previewPolicyImpact({ ctx, actor: owner, draft });
    expect(without.transitions.map((t) => [t.from, t.to])).toEqual([["blocked", "allowlisted"]]);
  });

  it("keeps the fields of each distinct request apart, whatever its path holds", async () => {
    const ctx = await setup();
    const odd = "/a\u001fb\u001fc";
    await egress(ctx, ctx.clock.now - 5, "pkg.example.com", { path: odd, method: "POST", port: 8443 });
    await egress(ctx, ctx.clock.now - 6, "pkg.example.com", { method: "CONNECT", path: "" });
    const { draft } = await draftOf(ctx, (c) => removeDomain({ ctx: c, actor: owner, input: { bundle: "b", pattern: "pkg.example.com" } }));
    const impact = await previewPolicyImpact({ ctx, actor: owner, draft });
    // Port 8443 was never allowed (the pattern means 443): only the default-port ones change.
    const urls = impact.transitions.flatMap((t) => t.examples.map((e) => `${e.method} ${e.url}`));
    expect(urls).toEqual(
      expect.arrayContaining(["GET https://pkg.example.com/x", "GET https://pkg.example.com/y", "CONNECT pkg.example.com:443"]),
    );
    expect(urls).not.toContain(`POST https://pkg.example.com:8443${odd}`);
    const wide = await previewPolicyImpact({
      ctx,
      actor: owner,
      draft: { ...draft, bundles: [{ ...draft.bundles[0]!, domains: ["pkg.example.com:8443"] }] },
    });
    const added = wide.transitions.find((t) => t.from === "blocked")!;
    expect(added.examples.map((e) => [e.method, e.url, e.count])).toEqual([["POST", `https://pkg.example.com:8443${odd}`, 1]]);
  });

  it("is for Owners", async () => {
    const ctx = await setup();
    await expect(
      previewPolicyImpact({
        ctx,
        actor: auditor,
        draft: { version: 1, orgDeny: [], bundles: [], memberAccess: { mode: "anyone", roles: [], directMessages: "enabled" } },
      }),
    ).rejects.toMatchObject({ code: "forbidden" });
  });
});
