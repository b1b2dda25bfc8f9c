import { describe, expect, it } from "vitest";
import { writeTransaction } from "../../../db/tx";
import { appendAuditEvents } from "../../audit";
import { putPolicy } from "../policy/put-policy";
import { owner, testContext, type TestContext } from "../test-context";
import { listConnectionHealth } from "./credential-health";
import { setCredential } from "./set-credential";

async function answer(ctx: TestContext, ts: number, status: number, connection = "api"): Promise<void> {
  await writeTransaction(ctx.db, (tx) =>
    appendAuditEvents(
      tx,
      [
        {
          kind: "egress",
          action: "egress.request",
          workspace: "T1",
          channel: "C1",
          bundle: "b",
          connection,
          method: "GET",
          scheme: "https",
          host: "api.example.com",
          port: 443,
          path: "/",
          outcome: "credentialed",
          status,
        },
      ],
      ts,
    ),
  );
}

describe("listConnectionHealth", () => {
  it("reads the upstream's answers from the audit log; never the secret", async () => {
    const ctx = await testContext();
    await putPolicy({
      ctx,
      actor: owner,
      dryRun: false,
      input: {
        version: 1,
        bundles: [
          {
            name: "b",
            scope: { type: "organization" },
            domains: [],
            connections: [
              { name: "api", serviceAccount: "s@acme.example", inject: { type: "bearer" }, allowedWebsites: ["api.example.com"] },
              { name: "other", serviceAccount: "s@acme.example", inject: { type: "bearer" }, allowedWebsites: ["other.example.com"] },
              { name: "none", serviceAccount: "s@acme.example", inject: { type: "bearer" }, allowedWebsites: ["none.example.com"] },
            ],
          },
        ],
      },
    });
    const secret = "fake-health-secret-0123456789";
    await setCredential({ ctx, actor: owner, input: { bundle: "b", connection: "api", secret } });
    await setCredential({ ctx, actor: owner, input: { bundle: "b", connection: "other", secret: "fake-other-secret-0123" } });
    let list = await listConnectionHealth({ ctx, actor: owner });
    expect(list.map((c) => [c.connection, c.health?.state ?? null])).toEqual([
      ["api", "unused"],
      ["other", "unused"],
      ["none", null],
    ]);

    ctx.clock.now += 1000;
    await answer(ctx, ctx.clock.now, 200);
    await answer(ctx, ctx.clock.now + 1, 200, "other");
    list = await listConnectionHealth({ ctx, actor: owner });
    expect(list[0]!.health).toMatchObject({
      state: "healthy",
      lastSuccessAt: new Date(ctx.clock.now).toISOString(),
      answers24h: 1,
      authFailures24h: 0,
    });
    for (let i = 2; i < 5; i++) await answer(ctx, ctx.clock.now + i, 401);
    ctx.clock.now += 10;
    const [api, other] = await listConnectionHealth({ ctx, actor: owner });
    expect(api!.health).toMatchObject({ state: "failing", answers24h: 4, authFailures24h: 3, authFailureShare24h: 0.75 });
    expect(other!.health!.state).toBe("healthy");
    expect(JSON.stringify(list)).not.toContain(secret);
    expect(api!.credential!.fingerprint).toMatch(/./);

    // A replaced credential starts over.
    ctx.clock.now += 1000;
    await setCredential({ ctx, actor: owner, input: { bundle: "b", connection: "api", secret: "fake-new-secret-0123456789" } });
    const [fresh] = await listConnectionHealth({ ctx, actor: owner, only: { bundle: "b", connection: "api" } });
    expect(fresh!.health).toMatchObject({ state: "unused", lastSuccessAt: null });
  });
});
