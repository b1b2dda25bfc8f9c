// Retention: events older than the retention move into gzip JSON Lines segments with a manifest
// (first/last seq and hash, the file's SHA-256). Files are written and fsynced before the rows go;
// the database then records the segment and deletes exactly those rows, in one transaction (the
// trigger of migration 0009 refuses any other deletion).
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import zlib from "node:zlib";
import { sql } from "drizzle-orm";
import type { Db } from "../../db/client";
import { rawRun } from "../../db/raw";
import { readEventsAfter, lowestSinkCursor } from "../../db/queries/sinks";
import type { AuditEventRow } from "../../db/queries/audit";
import { writeTransaction } from "../../db/tx";
import { appendAuditEvents } from "./append";
import { GENESIS_HASH } from "./events";
import { gatehouseJson } from "./stream/event";
import { archivedPoint, verifyChain } from "./verify";

export const MANIFEST = "manifest.json";
export const MANIFEST_FORMAT = "gatehouse-audit-archive/1";

export type SegmentEntry = {
  file: string;
  firstSeq: number;
  lastSeq: number;
  events: number;
  firstPrevHash: string;
  firstHash: string;
  lastHash: string;
  firstTs: number;
  lastTs: number;
  sha256: string;
};
export type Manifest = { format: typeof MANIFEST_FORMAT; segments: SegmentEntry[] };

export function segmentFileName(firstSeq: number, lastSeq: number): string {
  return `audit-${String(firstSeq).padStart(12, "0")}-${String(lastSeq).padStart(12, "0")}.jsonl.gz`;
}

function fsyncDir(dir: string): void {
  const fd = fs.openSync(dir, "r");
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/** Write to a temporary name, fsync, rename into place, fsync the directory: all or nothing on disk. */
function writeDurably(dir: string, name: string, data: Buffer | string): void {
  const tmp = path.join(dir, `.${name}.${process.pid}.tmp`);
  const fd = fs.openSync(tmp, "w", 0o600);
  try {
    fs.writeFileSync(fd, data);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, path.join(dir, name));
  fsyncDir(dir);
}

export function readManifest(dir: string): Manifest | null {
  let text: string;
  try {
    text = fs.readFileSync(path.join(dir, MANIFEST), "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw err;
  }
  const m = JSON.parse(text) as Manifest;
  if (m?.format !== MANIFEST_FORMAT || !Array.isArray(m.segments))
    throw new Error(`${path.join(dir, MANIFEST)} is not a Gatehouse archive manifest`);
  return m;
}

export type ArchiveRun = {
  segments: SegmentEntry[];
  events: number;
  /** Older events stay live because a sink has not been sent them yet. */ heldForSinks: boolean;
};

/**
 * Moves the oldest live events with ts < cutoff (the longest such prefix of the chain, and never
 * past the lowest sink cursor) into segments of at most `segmentEvents`.
 */
export async function archiveAudit(
  db: Db,
  opts: { dir: string; cutoff: number; now: number; actor: string; segmentEvents?: number; maxSegments?: number },
): Promise<ArchiveRun> {
  const segmentEvents = opts.segmentEvents ?? 10_000;
  fs.mkdirSync(opts.dir, { recursive: true, mode: 0o700 });
  const run: ArchiveRun = { segments: [], events: 0, heldForSinks: false };
  const sinkLimit = await lowestSinkCursor(db);
  for (let n = 0; n < (opts.maxSegments ?? 1000); n++) {
    const from = await archivedPoint(db);
    const afterSeq = from?.seq ?? 0;
    const batch = await readEventsAfter(db, afterSeq, segmentEvents);
    const rows: AuditEventRow[] = [];
    for (const r of batch) {
      if (r.ts >= opts.cutoff) break;
      if (sinkLimit !== null && r.seq > sinkLimit) {
        run.heldForSinks = true;
        break;
      }
      rows.push(r);
    }
    if (rows.length === 0) break;
    // Never bless a broken chain into an archive.
    const check = verifyChain(rows, { hash: from?.hash ?? rows[0]!.prevHash });
    if (!check.ok)
      throw new Error(
        `the audit chain is broken at event ${check.firstBad.id} (seq ${check.firstBad.seq}): ${check.firstBad.problem}; nothing was archived`,
      );
    if (!from && rows[0]!.prevHash !== GENESIS_HASH)
      throw new Error("the live log does not start at the beginning of the chain and no archive segment is recorded; nothing was archived");
    const first = rows[0]!;
    const last = rows.at(-1)!;
    const body = Buffer.from(rows.map((r) => JSON.stringify(gatehouseJson(r)) + "\n").join(""), "utf8");
    const gz = zlib.gzipSync(body, { level: 9 });
    const entry: SegmentEntry = {
      file: segmentFileName(first.seq, last.seq),
      firstSeq: first.seq,
      lastSeq: last.seq,
      events: rows.length,
      firstPrevHash: first.prevHash,
      firstHash: first.hash,
      lastHash: last.hash,
      firstTs: first.ts,
      lastTs: last.ts,
      sha256: crypto.hash("sha256", gz, "hex"),
    };
    writeDurably(opts.dir, entry.file, gz);
    const manifest = readManifest(opts.dir) ?? { format: MANIFEST_FORMAT, segments: [] };
    // A run that stopped after its files (before the database) left this segment listed: replace it.
    manifest.segments = [...manifest.segments.filter((s) => s.lastSeq < entry.firstSeq), entry];
    writeDurably(opts.dir, MANIFEST, JSON.stringify(manifest, null, 2) + "\n");
    await writeTransaction(db, async (tx) => {
      // The record of the run lands first: the log never becomes empty, so seq keeps rising.
      await appendAuditEvents(
        tx,
        [
          {
            kind: "admin",
            action: "audit.archived",
            actor: opts.actor,
            detail: {
              segment: entry.file,
              firstSeq: entry.firstSeq,
              lastSeq: entry.lastSeq,
              events: entry.events,
              lastHash: entry.lastHash,
              sha256: entry.sha256,
            },
          },
        ],
        opts.now,
      );
      await rawRun(
        tx,
        sql`INSERT INTO audit_archive_segments (first_seq, last_seq, first_prev_hash, first_hash, last_hash, events, file, sha256, created_at)
            VALUES (${entry.firstSeq}, ${entry.lastSeq}, ${entry.firstPrevHash}, ${entry.firstHash}, ${entry.lastHash}, ${entry.events},
                    ${entry.file}, ${entry.sha256}, ${opts.now})`,
      );
      await rawRun(tx, sql`DELETE FROM audit_events WHERE seq >= ${entry.firstSeq} AND seq <= ${entry.lastSeq}`);
    });
    run.segments.push(entry);
    run.events += rows.length;
    if (rows.length < batch.length || batch.length < segmentEvents) break;
  }
  return run;
}
