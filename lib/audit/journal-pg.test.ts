// The journal import on PostgreSQL (throwaway cluster): importers that share one journal
// directory (the importer thread and a reader that imports first, or two processes of one
// replica) never append a line twice, and the chain verifies.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { usePgTestDatabase } from "../../db/pg-test-database";
import { rawAll } from "../../db/raw";
import { EgressJournal, importJournals, type JournalEvent } from "./journal";
import { verifyAuditLog } from "./verify";

const pg = usePgTestDatabase();

const intent = (requestId: string): JournalEvent => ({
  kind: "egress",
  action: "egress.request",
  requestId,
  sessionId: "ses_test",
  workspace: "T1",
  channel: "C1",
  member: "U1",
  method: "GET",
  scheme: "https",
  host: "api.example.test",
  port: 443,
  path: "/",
  outcome: "allowlisted",
  rule: "domain:b:api.example.test",
  reason: "on the Domains tab",
  status: null,
});

describe("the egress journal on PostgreSQL", () => {
  it("two importers of one journal directory, running at once, append every line exactly once", async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "gatehouse-journal-pg-"));
    // Separate pools: as separate processes would, each reads the offsets for itself.
    const [a, b] = [pg.open(), pg.open()];
    const journal = new EgressJournal(dataDir);
    let written = 0;
    try {
      for (let round = 0; round < 20; round++) {
        for (let i = 0; i < 25; i++) journal.record(intent(`req_${round}_${i}`));
        written += 25;
        await Promise.all([importJournals(a, dataDir), importJournals(b, dataDir)]);
      }
    } finally {
      journal.close();
    }
    await Promise.all([importJournals(a, dataDir), importJournals(b, dataDir)]);
    const counts = await rawAll<{ request_id: string; n: number }>(
      a,
      sql`SELECT request_id, count(*)::int AS n FROM audit_events WHERE kind = 'egress' GROUP BY request_id HAVING count(*) > 1`,
    );
    expect(counts).toEqual([]);
    const [total] = await rawAll<{ n: number }>(a, sql`SELECT count(*)::int AS n FROM audit_events WHERE kind = 'egress'`);
    expect(total?.n).toBe(written);
    expect(await verifyAuditLog(a)).toMatchObject({ ok: true, events: written });
    fs.rmSync(dataDir, { recursive: true, force: true });
  }, 60_000);
});
