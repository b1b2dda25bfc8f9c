import fs from "node:fs";
import path from "node:path";
import zlib from "node:zlib";
import { describe, expect, it } from "vitest";
import { sqliteWriterOf } from "../../db/client";
import { writeTransaction } from "../../db/tx";
import { runRetention, setRetention, verifyArchive } from "../services/audit/retention";
import { verifyAudit } from "../services/audit/verify-audit";
import { owner, testContext, type TestContext } from "../services/test-context";
import { appendAuditEvents } from "./append";
import { readManifest } from "./archive";

const DAY = 86_400_000;

async function seed(ctx: TestContext, n: number, ts: number): Promise<void> {
  await writeTransaction(ctx.db, async (tx) => {
    await appendAuditEvents(
      tx,
      Array.from({ length: n }, (_, i) => ({
        kind: "egress" as const,
        action: "egress.request" as const,
        host: `h${i}.example`,
        outcome: "allowlisted",
        ts: ts + i,
      })),
    );
  });
}

function liveSeqs(ctx: TestContext): number[] {
  return (sqliteWriterOf(ctx.db).prepare("SELECT seq FROM audit_events ORDER BY seq").all() as { seq: number }[]).map((r) => r.seq);
}

async function archived(segmentEvents = 4): Promise<TestContext> {
  const ctx = await testContext();
  await seed(ctx, 10, ctx.clock.now - 40 * DAY);
  await seed(ctx, 3, ctx.clock.now - DAY);
  await setRetention({ ctx, actor: owner, input: { days: 30 } });
  const run = await runRetention({ ctx, actor: owner, segmentEvents });
  expect(run).toMatchObject({ events: 10 });
  return ctx;
}

describe("retention", () => {
  it("keeps everything by default", async () => {
    const ctx = await testContext();
    await seed(ctx, 3, 0);
    expect(await runRetention({ ctx, actor: owner })).toBeNull();
    expect(liveSeqs(ctx)).toEqual([1, 2, 3]);
  });

  it("moves old events into segments with a manifest, then removes exactly those rows", async () => {
    const ctx = await archived();
    const m = readManifest(ctx.env.auditArchiveDir)!;
    expect(m.segments.map((s) => [s.firstSeq, s.lastSeq])).toEqual([
      [1, 4],
      [5, 8],
      [9, 10],
    ]);
    expect(liveSeqs(ctx)[0]).toBe(11);
    const lines = zlib
      .gunzipSync(fs.readFileSync(path.join(ctx.env.auditArchiveDir, m.segments[1]!.file)))
      .toString()
      .trim()
      .split("\n");
    expect(lines.map((l) => JSON.parse(l).seq)).toEqual([5, 6, 7, 8]);
    // The retention change and each run are on the record.
    const actions = (sqliteWriterOf(ctx.db).prepare("SELECT action FROM audit_events ORDER BY seq").all() as { action: string }[]).map(
      (r) => r.action,
    );
    expect(actions.filter((a) => a === "audit.archived")).toHaveLength(3);
    expect(actions).toContain("audit_retention.changed");
  });

  it("verifies the live chain from the last archived hash, and archive + live as one chain", async () => {
    const ctx = await archived();
    expect(await verifyAudit({ ctx, actor: owner })).toMatchObject({ ok: true, archivedThrough: 10 });
    expect(await verifyArchive({ ctx, actor: owner, dir: ctx.env.auditArchiveDir })).toMatchObject({
      ok: true,
      segments: 3,
      archivedEvents: 10,
    });
  });

  it("names an edited segment", async () => {
    const ctx = await archived();
    const m = readManifest(ctx.env.auditArchiveDir)!;
    const file = path.join(ctx.env.auditArchiveDir, m.segments[1]!.file);
    const bytes = fs.readFileSync(file);
    bytes[bytes.length - 12]! ^= 1;
    fs.writeFileSync(file, bytes);
    expect(await verifyArchive({ ctx, actor: owner, dir: ctx.env.auditArchiveDir })).toMatchObject({
      ok: false,
      segment: m.segments[1]!.file,
      problem: expect.stringContaining("changed"),
    });
  });

  it("names a removed segment, whether its file or its manifest entry went", async () => {
    const ctx = await archived();
    const dir = ctx.env.auditArchiveDir;
    const m = readManifest(dir)!;
    fs.rmSync(path.join(dir, m.segments[0]!.file));
    expect(await verifyArchive({ ctx, actor: owner, dir })).toMatchObject({
      ok: false,
      segment: m.segments[0]!.file,
      problem: expect.stringContaining("missing"),
    });
    fs.writeFileSync(path.join(dir, "manifest.json"), JSON.stringify({ ...m, segments: m.segments.slice(1) }));
    expect(await verifyArchive({ ctx, actor: owner, dir })).toMatchObject({
      ok: false,
      segment: m.segments[0]!.file,
      problem: expect.stringContaining("removed"),
    });
  });

  it("lets the database delete only archived rows", async () => {
    const ctx = await archived();
    expect(() => sqliteWriterOf(ctx.db).prepare("DELETE FROM audit_events WHERE seq = 11").run()).toThrow(/append-only/);
    expect(() => sqliteWriterOf(ctx.db).prepare("UPDATE audit_events SET host = 'x' WHERE seq = 11").run()).toThrow(/append-only/);
    expect(() => sqliteWriterOf(ctx.db).prepare("DELETE FROM audit_archive_segments").run()).toThrow(/append-only/);
    // A forged segment record must continue the last one and end on a live event.
    expect(() =>
      sqliteWriterOf(ctx.db).prepare("INSERT INTO audit_archive_segments VALUES (11, 12, 'x', 'x', 'x', 2, 'f', 's', 0)").run(),
    ).toThrow(/continue/);
  });

  it("holds back what a sink has not been sent yet", async () => {
    const ctx = await testContext();
    await seed(ctx, 10, ctx.clock.now - 40 * DAY);
    sqliteWriterOf(ctx.db)
      .prepare(
        "INSERT INTO audit_sinks (id, name, type, format, url, cursor_seq, created_by, created_at) VALUES ('s', 's', 'otlp', 'json', 'http://127.0.0.1:1/', 6, 't', 0)",
      )
      .run();
    const run = await runRetention({ ctx, actor: owner, olderThanMs: 30 * DAY });
    expect(run).toMatchObject({ events: 6, heldForSinks: true });
    expect(liveSeqs(ctx)[0]).toBe(7);
  });

  it("refuses a retention that is not a whole number of days, as a field error", async () => {
    const ctx = await testContext();
    await expect(setRetention({ ctx, actor: owner, input: { days: "0" } })).rejects.toMatchObject({ code: "invalid_field", field: "days" });
    await expect(setRetention({ ctx, actor: owner, input: { days: "1.5" } })).rejects.toMatchObject({ field: "days" });
    await expect(
      setRetention({ ctx, actor: { type: "apikey", id: "k", name: "a", role: "auditor" }, input: { days: "30" } }),
    ).rejects.toMatchObject({ code: "forbidden" });
  });
});
