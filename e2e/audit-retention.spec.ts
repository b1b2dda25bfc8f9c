// Retention through the real processes: back-dated events (appended to the chain by this test
// before the server starts, the test-only path), the CLI's `audit archive`, the server's scheduled
// run, both `audit verify` commands, and one changed byte or one removed segment named.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { expect, test } from "@playwright/test";
import Database from "better-sqlite3";
import { closeDatabase, openDatabase } from "../db/client";
import { writeTransaction } from "../db/tx";
import { appendAuditEvents } from "../lib/audit/append";
import { readManifest } from "../lib/audit/archive";
import { gatehouseCli, startGatehouse, type Gatehouse } from "./fixtures/gatehouse";
import { freePort } from "./fixtures/ports";

const DAY = 86_400_000;
let g: Gatehouse | undefined;

test.afterAll(async () => {
  await g?.stop();
});

async function seed(dataDir: string, n: number, ageMs: number): Promise<void> {
  // A second process on the data directory, as the CLI would be: its own connections.
  const db = openDatabase(dataDir);
  try {
    const start = Date.now() - ageMs;
    await writeTransaction(db, (tx) =>
      appendAuditEvents(
        tx,
        Array.from({ length: n }, (_, i) => ({
          kind: "egress" as const,
          action: "egress.request" as const,
          host: `old${i}.example`,
          outcome: "allowlisted",
          ts: start + i,
        })),
      ),
    );
  } finally {
    await closeDatabase(db);
  }
}

test("old events move into verified archive segments; an edited or removed segment is named", async () => {
  test.setTimeout(180_000);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "gatehouse-retention-"));
  const archive = path.join(tmp, "audit-archive");
  const env = {
    ...process.env,
    GATEHOUSE_DATA_DIR: path.join(tmp, "data"),
    GATEHOUSE_AUDIT_ARCHIVE_DIR: archive,
    GATEHOUSE_AUDIT_ARCHIVE_EVERY: "1s",
    PORT: String(await freePort()),
    GATEHOUSE_PROXY_PORT: String(await freePort()),
    GATEHOUSE_PROXY_WORKERS: "1",
  } as Record<string, string>;
  const cli = (args: string[]) => gatehouseCli({ env: env as NodeJS.ProcessEnv }, args);
  // Creates the data directory and migrates it; writes no event.
  expect(cli(["audit", "verify"]).code).toBe(0);
  await seed(env.GATEHOUSE_DATA_DIR!, 25, 100 * DAY);
  await seed(env.GATEHOUSE_DATA_DIR!, 20, 45 * DAY);
  expect(cli(["audit", "retention", "--days", "30"]).code).toBe(0);

  // The CLI: events older than 60 days, in segments of 10.
  const run = cli(["audit", "archive", "--older-than", "60d", "--segment-events", "10"]);
  expect(run.code, run.stderr).toBe(0);
  expect(run.stderr).toContain("archived 25 event(s)");
  expect(readManifest(archive)!.segments.map((s) => [s.firstSeq, s.lastSeq])).toEqual([
    [1, 10],
    [11, 20],
    [21, 25],
  ]);

  // The server's scheduled run applies the 30-day retention by itself.
  g = await startGatehouse(env, { build: false });
  await expect.poll(() => readManifest(archive)?.segments.length, { timeout: 30_000 }).toBe(4);
  expect(readManifest(archive)!.segments[3]).toMatchObject({ firstSeq: 26, lastSeq: 45 });
  const live = cli(["audit", "verify"]);
  expect(live.code, live.stdout + live.stderr).toBe(0);
  expect(live.stderr).toContain("continuing the archive through seq 45");
  const whole = cli(["audit", "verify", "--archive", archive]);
  expect(whole.code, whole.stdout + whole.stderr).toBe(0);
  expect(whole.stderr).toContain("4 archive segment(s) with 45 event(s)");
  // The rows are gone from the database; the runs and the retention change are on the record.
  const exported = cli(["audit", "export", "--format", "jsonl"]).stdout;
  expect(exported).not.toContain("old3.example");
  expect(exported.match(/"action":"audit\.archived"/g)).toHaveLength(4);
  expect(exported).toContain('"action":"audit_retention.changed"');
  // Nothing else may be deleted.
  const sqlite = new Database(path.join(env.GATEHOUSE_DATA_DIR!, "gatehouse.db"));
  expect(() => sqlite.prepare("DELETE FROM audit_events WHERE seq = (SELECT MAX(seq) FROM audit_events)").run()).toThrow(/append-only/);
  sqlite.close();

  // One byte changed in the second segment: named.
  const second = path.join(archive, readManifest(archive)!.segments[1]!.file);
  const original = fs.readFileSync(second);
  const changed = Buffer.from(original);
  changed[Math.floor(changed.length / 2)]! ^= 0x01;
  fs.writeFileSync(second, changed);
  const edited = cli(["audit", "verify", "--archive", archive]);
  expect(edited.code).toBe(1);
  expect(JSON.parse(edited.stdout)).toMatchObject({ segment: path.basename(second), problem: expect.stringContaining("was changed") });
  expect(edited.stderr).toContain(`in archive segment ${path.basename(second)}`);
  // The live log alone is still intact.
  expect(cli(["audit", "verify"]).code).toBe(0);

  // Put it back, then remove the third: named too.
  fs.writeFileSync(second, original);
  expect(cli(["audit", "verify", "--archive", archive]).code).toBe(0);
  const third = readManifest(archive)!.segments[2]!.file;
  fs.rmSync(path.join(archive, third));
  const removed = cli(["audit", "verify", "--archive", archive]);
  expect(removed.code).toBe(1);
  expect(JSON.parse(removed.stdout)).toMatchObject({ segment: third, problem: expect.stringContaining("missing") });
});
