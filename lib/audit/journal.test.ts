import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { openDatabase } from "../../db/client";
import { createSession } from "../services/sessions/create-session";
import { orchestrator, testContext } from "../services/test-context";
import { canonicalEncoding, HASHED_FIELDS, type HashedEvent } from "./events";
import { EgressJournal, importJournals, journalDir, type JournalEvent } from "./journal";
import { verifyAuditLog } from "./verify";

const intent = (requestId: string, extra: Partial<JournalEvent> = {}): JournalEvent => ({
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
  path: "/repos",
  outcome: "allowlisted",
  rule: "domain:b:api.example.test",
  reason: "on the Domains tab",
  status: null,
  ...extra,
});
const completion = (requestId: string, extra: Partial<JournalEvent> = {}): JournalEvent => ({
  ...intent(requestId),
  action: "egress.completed",
  status: 200,
  bytesIn: 120,
  bytesOut: 0,
  durationMs: 3,
  ...extra,
});

type Row = { action: string; request_id: string; status: number | null; bytes_in: number | null; duration_ms: number | null };
const rows = (ctx: ReturnType<typeof testContext>) =>
  ctx.db.$client
    .prepare("SELECT action, request_id, status, bytes_in, duration_ms FROM audit_events WHERE kind = 'egress' ORDER BY seq")
    .all() as Row[];

describe("the egress journal", () => {
  it("moves records into the chain, one event per request when its completion came along", () => {
    const ctx = testContext();
    const journal = new EgressJournal(ctx.env.dataDir);
    journal.record(intent("req_a"));
    journal.record(intent("req_b"));
    journal.record(completion("req_a"));
    expect(importJournals(ctx.db, ctx.env.dataDir)).toBe(2);
    expect(rows(ctx)).toEqual([
      { action: "egress.request", request_id: "req_a", status: 200, bytes_in: 120, duration_ms: 3 },
      { action: "egress.request", request_id: "req_b", status: null, bytes_in: null, duration_ms: null },
    ]);
    // req_b finishes after its intent was imported: its completion is an event of its own.
    journal.record(completion("req_b", { status: 502 }));
    expect(importJournals(ctx.db, ctx.env.dataDir)).toBe(1);
    expect(rows(ctx)[2]).toMatchObject({ action: "egress.completed", request_id: "req_b", status: 502 });
    expect(verifyAuditLog(ctx.db)).toMatchObject({ ok: true, events: 3 });
    journal.close();
  });

  it("writes a completion as the columns it shares with its request plus the outcome, never losing the context", () => {
    const ctx = testContext();
    const journal = new EgressJournal(ctx.env.dataDir);
    const joined = journal.record(intent("req_joined", { detail: { nearMiss: "b/c" } }));
    const alone = journal.record(intent("req_alone"));
    journal.recordCompletion(joined, { ts: Date.now(), status: 201, bytesIn: 7, bytesOut: 9, durationMs: 4, reason: "done" });
    journal.close(); // flushes the completions written for later
    expect(importJournals(ctx.db, ctx.env.dataDir)).toBe(2);
    const writer = new EgressJournal(ctx.env.dataDir);
    writer.recordCompletion(alone, {
      ts: Date.now(),
      status: 504,
      bytesIn: 0,
      bytesOut: 0,
      durationMs: 30_000,
      reason: "the upstream did not answer in time",
    });
    writer.close();
    expect(importJournals(ctx.db, ctx.env.dataDir)).toBe(1);
    const events = ctx.db.$client
      .prepare(
        "SELECT id, action, request_id, host, path, session_id, status, bytes_in, bytes_out, duration_ms, reason, detail FROM audit_events ORDER BY seq",
      )
      .all();
    expect(events).toEqual([
      expect.objectContaining({
        action: "egress.request",
        request_id: "req_joined",
        host: "api.example.test",
        status: 201,
        bytes_in: 7,
        bytes_out: 9,
        duration_ms: 4,
        reason: "done",
        detail: '{"nearMiss":"b/c"}',
      }),
      expect.objectContaining({ action: "egress.request", request_id: "req_alone", status: null }),
      // Its request was already in the chain: an event of its own, with the request's context.
      expect.objectContaining({
        action: "egress.completed",
        request_id: "req_alone",
        host: "api.example.test",
        path: "/repos",
        session_id: "ses_test",
        status: 504,
        duration_ms: 30_000,
      }),
    ]);
    expect(new Set(events.map((e) => (e as { id: string }).id)).size).toBe(3);
    expect(verifyAuditLog(ctx.db)).toMatchObject({ ok: true, events: 3 });
  });

  it("carries every column of a record through the journal unchanged", () => {
    const ctx = testContext();
    const journal = new EgressJournal(ctx.env.dataDir);
    const full: JournalEvent = {
      kind: "egress",
      action: "egress.request",
      id: "0000000000aa-test-000001",
      ts: 1_700_000_000_123,
      requestId: "req_all",
      sessionId: "ses_all",
      workspace: "T9",
      channel: "C9",
      thread: "9.9",
      member: "U9",
      bundle: "b9",
      connection: "c9",
      serviceAccount: "sa@acme.example",
      method: "PATCH",
      scheme: "https",
      host: "h9.example.test",
      port: 8443,
      path: "/p/9",
      outcome: "credentialed",
      rule: "conn:b9/c9",
      reason: 'r9 "quoted" \u2603',
      status: 207,
      bytesIn: 11,
      bytesOut: 22,
      durationMs: 33,
      detail: { nearMiss: "b9/other" },
    };
    journal.record(full);
    journal.close();
    importJournals(ctx.db, ctx.env.dataDir);
    const row = ctx.db.$client.prepare("SELECT * FROM audit_events WHERE request_id = 'req_all'").get() as Record<string, unknown>;
    const snake = (k: string) => k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
    for (const [k, v] of Object.entries(full)) expect(row[snake(k)], k).toEqual(k === "detail" ? JSON.stringify(v) : v);
  });

  it("imports each line exactly once, across importers, and leaves a partial line for later", () => {
    const ctx = testContext();
    const journal = new EgressJournal(ctx.env.dataDir);
    for (let i = 0; i < 50; i++) journal.record(intent(`req_${i}`));
    const file = path.join(journalDir(ctx.env.dataDir), fs.readdirSync(journalDir(ctx.env.dataDir))[0]!);
    // A writer cut off mid-line.
    fs.appendFileSync(file, JSON.stringify(intent("req_partial")).slice(0, 40));
    const other = openDatabase(ctx.env.dataDir); // a second process's connection
    expect(importJournals(ctx.db, ctx.env.dataDir) + importJournals(other, ctx.env.dataDir) + importJournals(ctx.db, ctx.env.dataDir)).toBe(
      50,
    );
    expect(rows(ctx)).toHaveLength(50);
    expect(new Set(rows(ctx).map((r) => r.request_id)).size).toBe(50);
    other.$client.close();
    journal.close();
  });

  it("holds back young lines so a completion can join its intent", () => {
    const ctx = testContext();
    const journal = new EgressJournal(ctx.env.dataDir);
    const now = Date.now();
    journal.record(intent("req_old", { ts: now - 1000 }));
    journal.record(intent("req_young", { ts: now }));
    expect(importJournals(ctx.db, ctx.env.dataDir, { holdMs: 50, now })).toBe(1);
    journal.record(completion("req_young", { ts: now + 5 }));
    expect(importJournals(ctx.db, ctx.env.dataDir, { holdMs: 50, now: now + 100 })).toBe(1);
    expect(rows(ctx).map((r) => [r.request_id, r.status])).toEqual([
      ["req_old", null],
      ["req_young", 200],
    ]);
    journal.close();
  });

  it("takes a young completion along when its request is being taken, so the two stay one event", () => {
    const ctx = testContext();
    const journal = new EgressJournal(ctx.env.dataDir);
    const now = Date.now();
    journal.record(intent("req_1", { ts: now - 60 }));
    journal.record(intent("req_2", { ts: now - 45 }));
    journal.record(completion("req_1", { ts: now - 40 }));
    journal.record(intent("req_3", { ts: now - 10 }));
    expect(importJournals(ctx.db, ctx.env.dataDir, { holdMs: 50, now })).toBe(2);
    expect(rows(ctx).map((r) => [r.request_id, r.status])).toEqual([
      ["req_1", 200],
      ["req_2", null],
    ]);
    expect(importJournals(ctx.db, ctx.env.dataDir)).toBe(1);
    journal.close();
  });

  it("records an unreadable line instead of dropping it, and deletes a dead writer's file once imported", () => {
    const ctx = testContext();
    const dir = journalDir(ctx.env.dataDir);
    fs.mkdirSync(dir, { recursive: true });
    // A pid that cannot be running: a process that has already exited.
    const dead = spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"], { encoding: "utf8" }).stdout;
    const file = path.join(dir, `egress-${dead}-abcd0123-0.jsonl`);
    // The first line is in the object format of earlier versions, still imported after an upgrade.
    fs.writeFileSync(file, JSON.stringify({ ...intent("req_ok"), id: "x1", ts: 1 }) + "\n" + "{not json\n" + '{"kind":"egr');
    expect(importJournals(ctx.db, ctx.env.dataDir)).toBe(2);
    const events = ctx.db.$client.prepare("SELECT action, reason FROM audit_events ORDER BY seq DESC LIMIT 3").all() as {
      action: string;
      reason: string;
    }[];
    expect(events.map((e) => e.action)).toEqual(["journal.unreadable", "journal.unreadable", "egress.request"]);
    expect(events[1]!.reason).toContain("byte");
    expect(events[0]!.reason).toContain("incomplete record (12 bytes)");
    expect(fs.existsSync(file)).toBe(false);
    expect(ctx.db.$client.prepare("SELECT count(*) FROM audit_journal").pluck().get()).toBe(0);
  });

  it("applies session and credential touches in the import, never backwards, and never as audit events", () => {
    const ctx = testContext();
    const session = createSession({
      ctx,
      actor: orchestrator,
      input: { workspace: "T1", channel: "C1", thread: "1.1", kind: "channel", member: { id: "U1", orgMember: true, roles: [] } },
    });
    const lastSeen = () => ctx.db.$client.prepare("SELECT last_seen_at FROM sessions WHERE id = ?").pluck().get(session.id) as number;
    const before = lastSeen();
    const journal = new EgressJournal(ctx.env.dataDir);
    journal.recordTouch({ touch: "session", key: session.id, at: before + 5000 });
    journal.recordTouch({ touch: "session", key: session.id, at: before + 1000 });
    journal.close();
    expect(importJournals(ctx.db, ctx.env.dataDir)).toBe(0);
    expect(lastSeen()).toBe(before + 5000);
    expect(ctx.db.$client.prepare("SELECT count(*) FROM audit_events WHERE kind = 'egress'").pluck().get()).toBe(0);
  });

  it("steps over a run of bytes with no line break instead of stalling on it", () => {
    const ctx = testContext();
    const journal = new EgressJournal(ctx.env.dataDir);
    const file = path.join(journalDir(ctx.env.dataDir), fs.readdirSync(journalDir(ctx.env.dataDir))[0]!);
    fs.appendFileSync(file, "x".repeat(300 * 1024) + "\n");
    journal.record(intent("req_after"));
    importJournals(ctx.db, ctx.env.dataDir);
    const actions = (
      ctx.db.$client.prepare("SELECT action, request_id FROM audit_events ORDER BY seq").all() as {
        action: string;
        request_id: string | null;
      }[]
    ).map((r) => r.request_id ?? r.action);
    expect(actions).toEqual(["journal.unreadable", "journal.unreadable", "req_after"]);
    journal.close();
  });

  it("keeps its directory and files owner-only", () => {
    const ctx = testContext();
    const journal = new EgressJournal(ctx.env.dataDir);
    journal.record(intent("req_mode"));
    const dir = journalDir(ctx.env.dataDir);
    expect(fs.statSync(dir).mode & 0o077).toBe(0);
    for (const f of fs.readdirSync(dir)) expect(fs.statSync(path.join(dir, f)).mode & 0o077).toBe(0);
    journal.close();
  });
});

describe("the canonical encoding", () => {
  it("is the JSON array of the hashed fields in order, absent ones as null", () => {
    const value = fc.oneof(fc.constant(undefined), fc.constant(null), fc.string(), fc.integer());
    fc.assert(
      fc.property(
        fc.record(
          Object.fromEntries(HASHED_FIELDS.map((f) => [f, value])) as Record<(typeof HASHED_FIELDS)[number], fc.Arbitrary<unknown>>,
        ),
        (e) => {
          expect(canonicalEncoding(e as HashedEvent)).toBe(JSON.stringify(HASHED_FIELDS.map((f) => (e as HashedEvent)[f] ?? null)));
        },
      ),
    );
  });
});
