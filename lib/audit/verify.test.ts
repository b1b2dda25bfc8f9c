import { describe, expect, it } from "vitest";
import { writeTransaction } from "../../db/tx";
import { testContext } from "../services/test-context";
import { appendAuditEvents } from "./append";
import { GENESIS_HASH, eventHash, type HashedEvent } from "./events";
import { verifyAuditLog, verifyChain } from "./verify";

type Row = HashedEvent & { seq: number; hash: string };

function chain(n: number): Row[] {
  const rows: Row[] = [];
  let prev = GENESIS_HASH;
  for (let i = 0; i < n; i++) {
    const e = {
      id: `e${i}`,
      ts: 1000 + i,
      kind: "egress",
      action: "egress.request",
      actor: null,
      requestId: `r${i}`,
      sessionId: null,
      workspace: "T",
      channel: "C",
      thread: null,
      member: "U",
      bundle: null,
      connection: null,
      serviceAccount: null,
      method: "GET",
      scheme: "https",
      host: `h${i}.example`,
      port: 443,
      path: "/",
      outcome: "allowlisted",
      rule: "domain:b:x",
      reason: "ok",
      status: null,
      bytesIn: null,
      bytesOut: null,
      durationMs: null,
      detail: null,
      prevHash: prev,
    } as HashedEvent;
    const hash = eventHash(e);
    rows.push({ ...e, seq: i + 1, hash });
    prev = hash;
  }
  return rows;
}

describe("the hash chain", () => {
  it("verifies an intact chain", () => {
    expect(verifyChain(chain(5))).toMatchObject({ ok: true, events: 5 });
  });
  it("detects a changed event", () => {
    const rows = chain(5);
    rows[2] = { ...rows[2]!, host: "evil.example" };
    expect(verifyChain(rows)).toMatchObject({ ok: false, firstBad: { id: "e2", problem: expect.stringContaining("changed") } });
  });
  it("detects a removed event", () => {
    const rows = chain(5);
    rows.splice(2, 1);
    expect(verifyChain(rows)).toMatchObject({ ok: false, firstBad: { id: "e3" } });
  });
  it("detects reordered events", () => {
    const rows = chain(5);
    [rows[1], rows[2]] = [rows[2]!, rows[1]!];
    expect(verifyChain(rows)).toMatchObject({ ok: false, firstBad: { id: "e2" } });
  });
  it("detects an inserted event, even one with a recomputed hash", () => {
    const rows = chain(5);
    const forged = { ...rows[2]!, id: "forged", prevHash: rows[1]!.hash } as Row;
    forged.hash = eventHash(forged);
    rows.splice(2, 0, forged);
    expect(verifyChain(rows)).toMatchObject({ ok: false, firstBad: { id: "e2" } });
  });
});

describe("the audit table", () => {
  it("refuses UPDATE and DELETE, and verifies incrementally", () => {
    const ctx = testContext();
    writeTransaction(ctx.db, () =>
      appendAuditEvents(ctx.db, [
        { kind: "admin", action: "user.added", actor: "a" },
        { kind: "access", action: "signin.failed", actor: "b" },
      ]),
    );
    expect(() => ctx.db.$client.prepare("UPDATE audit_events SET actor = 'x'").run()).toThrow(/append-only/);
    expect(() => ctx.db.$client.prepare("DELETE FROM audit_events").run()).toThrow(/append-only/);
    const all = verifyAuditLog(ctx.db);
    expect(all).toMatchObject({ ok: true, events: 2, lastSeq: 2 });
    writeTransaction(ctx.db, () => appendAuditEvents(ctx.db, [{ kind: "admin", action: "user.added", actor: "c" }]));
    if (!all.ok) throw new Error("unreachable");
    expect(verifyAuditLog(ctx.db, { seq: all.lastSeq, hash: all.lastHash })).toMatchObject({ ok: true, events: 1, lastSeq: 3 });
    // Someone with file access drops the trigger and edits a row: verify names it.
    ctx.db.$client.exec("DROP TRIGGER audit_events_no_update");
    ctx.db.$client.prepare("UPDATE audit_events SET actor = 'mallory' WHERE seq = 2").run();
    expect(verifyAuditLog(ctx.db)).toMatchObject({ ok: false, firstBad: { seq: 2 } });
  });
  it("refuses an append outside a transaction", () => {
    const ctx = testContext();
    expect(() => appendAuditEvents(ctx.db, [{ kind: "admin", action: "user.added" }])).toThrow(/inside a write transaction/);
  });
});
