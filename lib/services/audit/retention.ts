// Settings → Audit retention, and the archive runs it drives (lib/audit/archive.ts).
import { eq, sql } from "drizzle-orm";
import type { Db } from "../../../db/client";
import { rawGet } from "../../../db/raw";
import { writeTransaction } from "../../../db/tx";
import { appendAuditEvents } from "../../audit";
import { archiveAudit, type ArchiveRun } from "../../audit/archive";
import { verifyArchiveAndLog, type ArchiveVerdict } from "../../audit/archive-verify";
import { importJournals } from "../../audit/journal";
import { processHolder, releaseLease, tryLease } from "../../audit/lease";
import { actorLabel, type Actor } from "../../auth/permissions";
import { AppError } from "../../errors";
import { authorize } from "../authorize";
import type { ServiceContext } from "../context";

export const MAX_RETENTION_DAYS = 36_500;
const DAY = 86_400_000;
export const ARCHIVE_LEASE = "audit-archive";

export function archiveDir(ctx: ServiceContext): string {
  return ctx.env.auditArchiveDir;
}

async function retentionDays(db: Db): Promise<number | null> {
  const { orgSettings } = db.t;
  return (await db.select({ days: orgSettings.auditRetentionDays }).from(orgSettings).where(eq(orgSettings.id, 1)))[0]?.days ?? null;
}

export type RetentionView = {
  days: number | null;
  archiveDir: string;
  segments: number;
  archivedEvents: number;
  archivedThroughSeq: number;
  lastArchivedAt: number | null;
};

export async function getRetention({ ctx, actor }: { ctx: ServiceContext; actor: Actor | null }): Promise<RetentionView> {
  authorize(actor, "audit.read");
  const days = await retentionDays(ctx.db);
  const a = (await rawGet<{ n: number; events: number; through: number; at: number | null }>(
    ctx.db,
    sql`SELECT COUNT(*) AS "n", COALESCE(SUM(events), 0) AS "events", COALESCE(MAX(last_seq), 0) AS "through", MAX(created_at) AS "at"
          FROM audit_archive_segments`,
  ))!;
  return {
    days,
    archiveDir: archiveDir(ctx),
    segments: Number(a.n),
    archivedEvents: Number(a.events),
    archivedThroughSeq: Number(a.through),
    lastArchivedAt: a.at === null ? null : Number(a.at),
  };
}

/** Owner: days to keep live (null: keep everything). An audited change. */
export async function setRetention({
  ctx,
  actor,
  input,
}: {
  ctx: ServiceContext;
  actor: Actor | null;
  input: { days: unknown };
}): Promise<{ days: number | null; changed: boolean }> {
  authorize(actor, "settings.write");
  const raw = input?.days;
  let days: number | null;
  if (raw === null || raw === undefined || raw === "" || raw === "keep") days = null;
  else {
    const n = typeof raw === "number" ? raw : typeof raw === "string" && /^\d{1,6}$/.test(raw.trim()) ? Number(raw.trim()) : NaN;
    if (!Number.isInteger(n) || n < 1 || n > MAX_RETENTION_DAYS)
      throw new AppError("invalid_field", `days: a whole number of days from 1 to ${MAX_RETENTION_DAYS}, or empty to keep everything`, {
        field: "days",
        fields: [{ field: "days", message: `a whole number of days from 1 to ${MAX_RETENTION_DAYS}, or empty to keep everything` }],
      });
    days = n;
  }
  return writeTransaction(ctx.db, async (tx) => {
    const { orgSettings } = tx.t;
    const before = await retentionDays(tx);
    if (before === days) return { days, changed: false };
    await tx.update(orgSettings).set({ auditRetentionDays: days }).where(eq(orgSettings.id, 1));
    await appendAuditEvents(
      tx,
      [
        {
          kind: "admin",
          action: "audit_retention.changed",
          actor: actorLabel(actor!),
          detail: { before: { days: before }, after: { days } },
        },
      ],
      ctx.now(),
    );
    return { days, changed: true };
  });
}

/**
 * Owner (or the scheduled run): archives what the retention (or `olderThanMs`, for the CLI) says
 * is old. One run at a time across processes (a lease row). Null when no retention is set.
 */
export async function runRetention({
  ctx,
  actor,
  olderThanMs,
  segmentEvents,
}: {
  ctx: ServiceContext;
  actor: Actor | null;
  olderThanMs?: number;
  segmentEvents?: number;
}): Promise<(ArchiveRun & { cutoff: number; dir: string }) | null> {
  authorize(actor, "settings.write");
  let keepMs = olderThanMs;
  if (keepMs === undefined) {
    const days = await retentionDays(ctx.db);
    if (days === null) return null;
    keepMs = days * DAY;
  }
  await importJournals(ctx.db, ctx.env.dataDir);
  const now = ctx.now();
  if (!(await tryLease(ctx.db, ARCHIVE_LEASE, processHolder, 10 * 60_000, now)))
    throw new AppError("conflict", "another archive run is in progress");
  try {
    const dir = archiveDir(ctx);
    const run = await archiveAudit(ctx.db, { dir, cutoff: now - keepMs, now, actor: actorLabel(actor!), segmentEvents });
    return { ...run, cutoff: now - keepMs, dir };
  } finally {
    await releaseLease(ctx.db, ARCHIVE_LEASE, processHolder);
  }
}

/** `audit verify --archive DIR`: archives and live log as one chain. */
export async function verifyArchive({
  ctx,
  actor,
  dir,
}: {
  ctx: ServiceContext;
  actor: Actor | null;
  dir: string;
}): Promise<ArchiveVerdict> {
  authorize(actor, "audit.read");
  await importJournals(ctx.db, ctx.env.dataDir);
  return verifyArchiveAndLog(ctx.db, dir);
}
