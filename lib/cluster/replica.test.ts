import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { feedOptionsFromEnv, feedRevisions, replicaId } from "./replica";
import { PolicyStaleError } from "./stale";

describe("replica helpers", () => {
  it("a data directory keeps one replica id across restarts; another directory gets another", () => {
    const a = fs.mkdtempSync(path.join(os.tmpdir(), "gh-replica-"));
    const b = fs.mkdtempSync(path.join(os.tmpdir(), "gh-replica-"));
    const id = replicaId(a);
    expect(id).toMatch(/^[0-9a-f]{32}$/);
    expect(replicaId(a)).toBe(id);
    expect(replicaId(b)).not.toBe(id);
    expect(fs.statSync(path.join(a, "replica-id")).mode & 0o777).toBe(0o600);
  });

  it("GATEHOUSE_CHANGE_FEED_MAX_STALE_MS is whole milliseconds within bounds", () => {
    expect(feedOptionsFromEnv({})).toEqual({});
    expect(feedOptionsFromEnv({ GATEHOUSE_CHANGE_FEED_MAX_STALE_MS: "1500" })).toEqual({ maxStaleMs: 1500 });
    for (const bad of ["0", "99", "1.5", "abc", "600001"])
      expect(() => feedOptionsFromEnv({ GATEHOUSE_CHANGE_FEED_MAX_STALE_MS: bad })).toThrow(/between 100 and 600000/);
  });

  it("the proxy's revisions read throws PolicyStaleError with the reason while the feed refuses", () => {
    let refusal: string | null = "cannot confirm the policy is current (x)";
    const read = feedRevisions({ refusal: () => refusal, revisions: () => ({ policy: 3, sessions: 4 }) });
    expect(read).toThrow(PolicyStaleError);
    expect(read).toThrow(/cannot confirm the policy is current/);
    refusal = null;
    expect(read()).toEqual({ policy: 3, sessions: 4 });
  });
});

describe("readiness on a replica", () => {
  it("/readyz fails with the feed's reason while it is stale, and passes again once current", async () => {
    const { readiness } = await import("../health");
    const { registerFreshness } = await import("./stale");
    const { testContext } = await import("../services/test-context");
    const ctx = await testContext();
    let refusal: string | null = "cannot confirm the policy is current (the change feed connection was lost; never confirmed, limit 3.0 s)";
    registerFreshness(() => refusal);
    try {
      const stale = await readiness(ctx.db, ctx.env.dataDir);
      expect(stale.ready).toBe(false);
      expect(stale.failed).toEqual([{ check: "change_feed", message: refusal }]);
      refusal = null;
      expect(await readiness(ctx.db, ctx.env.dataDir)).toEqual({ ready: true, failed: [] });
    } finally {
      registerFreshness(() => null);
    }
  });
});
