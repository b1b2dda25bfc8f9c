import fs from "node:fs";
import { describe, expect, it } from "vitest";
import { startPgCluster } from "../../scripts/pg-test-cluster.mjs";

describe("throwaway PostgreSQL cluster", () => {
  it("serves a database on a free port, survives a restart, and leaves nothing behind", async () => {
    const pg = await startPgCluster();
    try {
      expect(pg.url).toMatch(/^postgres:\/\/gatehouse@127\.0\.0\.1:\d+\/gatehouse$/);
      pg.psql("create table t (v int); insert into t values (42)");
      await pg.stopServer();
      await pg.startServer();
      expect(pg.psql("select v from t").trim()).toBe("42");
    } finally {
      await pg.stop();
    }
    expect(fs.existsSync(pg.dir)).toBe(false);
  }, 60_000);
});
