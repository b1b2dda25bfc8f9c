import { sqliteWriterOf } from "../../../db/client";
import fs from "node:fs";
import path from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { FREE_TEXT_COLUMNS, ftsQuery } from "../../../db/queries/audit";
import { migrationsFolder } from "../../../db/migrate";
import { writeTransaction } from "../../../db/tx";
import { appendAuditEvents, type AuditEventInput } from "../../audit";
import { owner, testContext, type TestContext } from "../test-context";
import { searchAudit } from "./search-audit";
import { verifyAudit } from "./verify-audit";

type Ev = AuditEventInput & { ts: number };

async function seed(ctx: TestContext, events: Ev[]) {
  await writeTransaction(ctx.db, async () => await appendAuditEvents(ctx.db, events));
}

const base = (i: number, over: Partial<Ev> = {}): Ev => ({
  ts: 1_700_000_000_000 + i,
  kind: "egress",
  action: "egress.request",
  requestId: `req_${i}`,
  workspace: "T0ACME",
  channel: `C${i % 3}`,
  member: `U${i % 2}`,
  method: "GET",
  scheme: "https",
  host: `h${i}.example.com`,
  port: 443,
  path: `/repos/acme/${i}`,
  outcome: i % 2 ? "blocked" : "allowlisted",
  rule: "domain:baseline:x",
  reason: "test event",
  ...over,
});

const search = (ctx: TestContext, input: Record<string, string>) => searchAudit({ ctx, actor: owner, input });
const hosts = (r: Awaited<ReturnType<typeof search>>) => r.events.map((e) => e.host);

describe("audit free-text search (trigram index)", () => {
  it("finds a substring in any searched column, case-insensitively, and nothing else", async () => {
    const ctx = await testContext();
    await seed(ctx, [
      base(1),
      base(2, { path: "/Secret-Report/Q3" }),
      base(3, { reason: 'went through "quoted" 100%_done' }),
      base(4, { kind: "admin", action: "domain.added", actor: "owner@acme.example", host: null, path: null }),
    ]);
    expect(hosts(await search(ctx, { q: "h1.exam" }))).toEqual(["h1.example.com"]);
    expect(hosts(await search(ctx, { q: "secret-REPORT" }))).toEqual(["h2.example.com"]);
    expect(hosts(await search(ctx, { q: '"quoted"' }))).toEqual(["h3.example.com"]);
    expect(hosts(await search(ctx, { q: "100%_" }))).toEqual(["h3.example.com"]);
    expect(hosts(await search(ctx, { q: "0%_d" }))).toEqual(["h3.example.com"]);
    expect((await search(ctx, { q: "OWNER@acme" })).events.map((e) => e.action)).toEqual(["domain.added"]);
    expect((await search(ctx, { q: "req_3" })).events.map((e) => e.requestId)).toEqual(["req_3"]);
    expect((await search(ctx, { q: "not-in-the-log" })).events).toEqual([]);
    // "%" and "_" are literal, not wildcards.
    expect((await search(ctx, { q: "h_.example" })).events).toEqual([]);
  });

  it("keeps short and punctuation-only queries working (no trigram: scanned)", async () => {
    const ctx = await testContext();
    await seed(ctx, [base(1), base(2, { path: "/a~b" })]);
    expect(ftsQuery("h1")).toBeNull();
    expect(hosts(await search(ctx, { q: "h1" }))).toEqual(["h1.example.com"]);
    expect(hosts(await search(ctx, { q: "~" }))).toEqual(["h2.example.com"]);
    expect(hosts(await search(ctx, { q: "/a~" }))).toEqual(["h2.example.com"]);
    expect(hosts(await search(ctx, { q: '"' }))).toEqual([]);
    expect(hosts(await search(ctx, { q: '"""' }))).toEqual([]);
    expect(hosts(await search(ctx, { q: "a OR b" }))).toEqual([]);
  });

  it("combines free text with filters, and pages with the cursor as before", async () => {
    const ctx = await testContext();
    await seed(
      ctx,
      Array.from({ length: 30 }, (_, i) => base(i, { host: i % 2 ? "api.example.com" : "cdn.example.net" })),
    );
    const all = await search(ctx, { q: "repos/acme", host: "api.example.com", outcome: "blocked", channel: "C1", limit: "2" });
    const expected = Array.from({ length: 30 }, (_, i) => i)
      .filter((i) => i % 2 === 1 && i % 3 === 1)
      .reverse()
      .map((i) => `req_${i}`);
    const seen: string[] = [];
    let page = all;
    for (;;) {
      seen.push(...page.events.map((e) => e.requestId!));
      if (!page.nextCursor) break;
      page = await search(ctx, {
        q: "repos/acme",
        host: "api.example.com",
        outcome: "blocked",
        channel: "C1",
        limit: "2",
        cursor: page.nextCursor,
      });
    }
    expect(seen).toEqual(expected);
    // Without a host or channel filter the index drives the search (newest match first);
    // the other filters and the cursor apply the same.
    const driven: string[] = [];
    let cursor: string | null = null;
    do {
      const p = await search(ctx, { q: "REPOS/acme/", outcome: "blocked", kind: "egress", limit: "4", ...(cursor ? { cursor } : {}) });
      driven.push(...p.events.map((e) => e.requestId!));
      cursor = p.nextCursor;
    } while (cursor);
    expect(driven).toEqual(
      Array.from({ length: 30 }, (_, i) => i)
        .filter((i) => i % 2 === 1)
        .reverse()
        .map((i) => `req_${i}`),
    );
  });

  it("agrees with a plain substring search for any query (property)", async () => {
    const ctx = await testContext();
    const alphabet = fc.constantFrom(..."aAbB.-/_%\"' *:ÉéXx0");
    const word = fc.array(alphabet, { minLength: 0, maxLength: 8 }).map((a) => a.join(""));
    const events = fc
      .sample(fc.record({ host: word, path: word, reason: word, member: word }), { numRuns: 60, seed: 7 })
      .map((r, i) => base(i, r));
    await seed(ctx, events);
    // SQLite LIKE folds ASCII case only; the index must neither add nor lose rows.
    const fold = (s: string) => s.replace(/[A-Z]/g, (c) => c.toLowerCase());
    const stored = events.map((e, i) => ({
      i,
      text: [e.host, e.path, e.reason, e.action, e.actor, e.member, e.rule, e.connection, e.requestId],
    }));
    expect(FREE_TEXT_COLUMNS.length).toBe(9);
    await fc.assert(
      fc.asyncProperty(
        fc.array(alphabet, { minLength: 1, maxLength: 5 }).map((a) => a.join("")),
        async (q) => {
          const want = stored
            .filter((s) => s.text.some((t) => t != null && fold(t).includes(fold(q))))
            .map((s) => `req_${s.i}`)
            .reverse();
          expect((await search(ctx, { q, limit: "500" })).events.map((e) => e.requestId)).toEqual(want);
        },
      ),
      { numRuns: 300 },
    );
  });

  it("backfills events logged before the index existed, and leaves the chain and its triggers alone", async () => {
    const ctx = await testContext();
    await seed(ctx, [base(1), base(2, { path: "/old/event" })]);
    // Undo what migrations 0005-0006 made, then run their SQL again over the logged events
    // (re-running the migrator would also replay every later migration).
    const raw = sqliteWriterOf(ctx.db);
    raw.exec(
      "DROP TRIGGER audit_events_fts_insert; DROP TABLE audit_fts; DROP INDEX audit_channel_seq; DROP INDEX audit_channel_outcome_seq",
    );
    for (const file of ["0005_audit_channel_index.sql", "0006_audit_fts.sql"]) {
      for (const statement of fs.readFileSync(path.join(migrationsFolder, file), "utf8").split("--> statement-breakpoint")) {
        if (statement.trim()) raw.exec(statement);
      }
    }
    expect(hosts(await search(ctx, { q: "old/ev" }))).toEqual(["h2.example.com"]);
    await seed(ctx, [base(3, { path: "/new/event" })]);
    expect(hosts(await search(ctx, { q: "/event" }))).toEqual(["h3.example.com", "h2.example.com"]);
    raw.exec("INSERT INTO audit_fts (audit_fts, rank) VALUES ('integrity-check', 1)");
    expect(() => raw.exec("UPDATE audit_events SET host = 'x.example' WHERE seq = 1")).toThrow(/append-only/);
    expect(() => raw.exec("DELETE FROM audit_events WHERE seq = 1")).toThrow(/append-only/);
    expect(await verifyAudit({ ctx, actor: owner })).toMatchObject({ ok: true, events: 3 });
  });

  it("merges eight index segments at a time (0012), and a search across many merged segments finds every event", async () => {
    const ctx = await testContext();
    const raw = sqliteWriterOf(ctx.db);
    expect(raw.prepare("SELECT v FROM audit_fts_config WHERE k = 'automerge'").pluck().get()).toBe(8);
    // One transaction per event: one new segment each, so merges happen many times over.
    for (let i = 0; i < 120; i++) await seed(ctx, [base(i, { path: `/merged/${i}` })]);
    expect((await search(ctx, { q: "/merged/", limit: "500" })).events).toHaveLength(120);
    expect(hosts(await search(ctx, { q: "/merged/77" }))).toEqual(["h77.example.com"]);
    raw.exec("INSERT INTO audit_fts (audit_fts, rank) VALUES ('integrity-check', 1)");
  });
});
