// appendAuditEvents on PostgreSQL (throwaway cluster): the rows go in as column arrays (unnest),
// so awkward text must come back byte for byte and the chain must verify.
import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { usePgTestDatabase } from "../../db/pg-test-database";
import { rawAll } from "../../db/raw";
import { writeTransaction } from "../../db/tx";
import { appendAuditEvents } from "./append";
import { verifyAuditLog } from "./verify";

const pg = usePgTestDatabase();

const awkward = ['say "hi"', "back\\slash", "{braces},comma", "NULL", "", "ünïcödé ✓", "tab\tand\nnewline", "'single'"];

describe("appendAuditEvents on PostgreSQL", () => {
  it("stores awkward text, nulls and numbers exactly, in order, and the chain verifies", async () => {
    const events = awkward.map((text, i) => ({
      kind: "egress" as const,
      action: "egress.request" as const,
      requestId: `req_${i}`,
      host: "api.example.test",
      port: i % 2 ? 443 : undefined,
      path: `/p/${text}`,
      reason: text,
      actor: i % 3 ? null : text,
      status: i % 2 ? 200 : null,
      bytesIn: i * 1_000_000_000, // past 32 bits
      durationMs: i,
      detail: i === 0 ? { note: text } : undefined,
      ts: 1_700_000_000_000 + i,
    }));
    await writeTransaction(pg.db, (tx) => appendAuditEvents(tx, events));
    // A second batch chains onto the first.
    await writeTransaction(pg.db, (tx) => appendAuditEvents(tx, events.slice(0, 3)));
    const rows = await rawAll<Record<string, unknown>>(
      pg.db,
      sql`SELECT request_id AS "requestId", path, reason, actor, port, status, bytes_in AS "bytesIn", ts, detail FROM audit_events ORDER BY seq`,
    );
    expect(rows).toHaveLength(awkward.length + 3);
    rows.slice(0, awkward.length).forEach((r, i) => {
      expect(r.requestId).toBe(`req_${i}`);
      expect(r.path).toBe(`/p/${awkward[i]}`);
      expect(r.reason).toBe(awkward[i]);
      expect(r.actor).toBe(i % 3 ? null : awkward[i]);
      expect(r.port).toBe(i % 2 ? 443 : null);
      expect(r.status).toBe(i % 2 ? 200 : null);
      expect(Number(r.bytesIn)).toBe(i * 1_000_000_000);
      expect(Number(r.ts)).toBe(1_700_000_000_000 + i);
      expect(r.detail).toBe(i === 0 ? JSON.stringify({ note: awkward[0] }) : null);
    });
    const verified = await verifyAuditLog(pg.db);
    expect(verified.ok).toBe(true);
    expect(verified.events).toBe(awkward.length + 3);
  });

  it("keeps a large batch in order across statements: seq order is chain order", async () => {
    const before = (await verifyAuditLog(pg.db)).events;
    const many = Array.from({ length: 6_001 }, (_, i) => ({
      kind: "egress" as const,
      action: "egress.request" as const,
      requestId: `bulk_${i}`,
    }));
    await writeTransaction(pg.db, (tx) => appendAuditEvents(tx, many));
    const ids = await rawAll<{ r: string }>(
      pg.db,
      sql`SELECT request_id AS r FROM audit_events WHERE request_id LIKE 'bulk_%' ORDER BY seq`,
    );
    expect(ids.map((x) => x.r)).toEqual(many.map((e) => e.requestId));
    const verified = await verifyAuditLog(pg.db);
    expect(verified.ok).toBe(true);
    expect(verified.events).toBe(before + many.length);
  });
});
