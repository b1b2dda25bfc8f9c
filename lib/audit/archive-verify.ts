// `audit verify --archive DIR`: the archive segments and the live log checked as one chain. A
// segment removed, edited, reordered or left out of the manifest is named.
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import zlib from "node:zlib";
import { sql } from "drizzle-orm";
import type { Db } from "../../db/client";
import { rawAll } from "../../db/raw";
import { readManifest, type SegmentEntry } from "./archive";
import { GENESIS_HASH, type HashedEvent } from "./events";
import { verifyAuditLog, verifyChain } from "./verify";

export type ArchiveVerdict =
  | { ok: true; segments: number; archivedEvents: number; liveEvents: number; lastHash: string }
  | { ok: false; segment: string | null; problem: string; seq?: number; id?: string };

type RecordedSegment = { firstSeq: number; lastSeq: number; lastHash: string; file: string; sha256: string };

const MAX_SEGMENT_BYTES = 1 << 30;

export async function verifyArchiveAndLog(db: Db, dir: string): Promise<ArchiveVerdict> {
  let manifest;
  try {
    manifest = readManifest(dir);
  } catch (err) {
    return { ok: false, segment: null, problem: `the manifest cannot be read: ${(err as Error).message}` };
  }
  const recorded = (
    await rawAll<RecordedSegment>(
      db,
      sql`SELECT first_seq AS "firstSeq", last_seq AS "lastSeq", last_hash AS "lastHash", file, sha256 FROM audit_archive_segments ORDER BY first_seq`,
    )
  ).map((r) => ({ ...r, firstSeq: Number(r.firstSeq), lastSeq: Number(r.lastSeq) }));
  const watermark = recorded.at(-1)?.lastSeq ?? 0;
  // Segments past the database's watermark were written by a run that stopped before its
  // transaction: their events are still live, and the next run writes them again.
  const listed = (manifest?.segments ?? []).filter((s) => s.lastSeq <= watermark);
  if (!manifest && recorded.length)
    return {
      ok: false,
      segment: recorded[0]!.file,
      problem: `no ${"manifest.json"} in ${dir}, but the database records ${recorded.length} archived segment(s)`,
    };
  const byFirst = new Map(listed.map((s) => [s.firstSeq, s]));
  for (const r of recorded) {
    const s = byFirst.get(r.firstSeq);
    if (!s) return { ok: false, segment: r.file, problem: "the segment is missing from the manifest (it was removed)" };
    if (s.lastSeq !== r.lastSeq || s.lastHash !== r.lastHash || s.sha256 !== r.sha256 || s.file !== r.file)
      return {
        ok: false,
        segment: r.file,
        problem: "the manifest's entry for the segment differs from the database's record (the manifest was edited)",
      };
  }
  let prev = GENESIS_HASH;
  let nextSeq: number | null = null;
  let archivedEvents = 0;
  for (const s of listed.sort((a, b) => a.firstSeq - b.firstSeq)) {
    if (s.firstPrevHash !== prev || (nextSeq !== null && s.firstSeq !== nextSeq)) {
      return {
        ok: false,
        segment: s.file,
        problem:
          prev === GENESIS_HASH && nextSeq === null
            ? "the archive does not start at the beginning of the chain (an earlier segment was removed)"
            : "does not continue the segment before it (a segment was removed)",
      };
    }
    const bad = checkSegment(dir, s, prev);
    if (bad) return { ok: false, segment: s.file, ...bad };
    prev = s.lastHash;
    nextSeq = s.lastSeq + 1;
    archivedEvents += s.events;
  }
  const live = await verifyAuditLog(db);
  if (!live.ok)
    return { ok: false, segment: null, problem: `live log: ${live.firstBad.problem}`, seq: live.firstBad.seq, id: live.firstBad.id };
  // verifyAuditLog starts from the database's archived point; the archive must end on that same event.
  if (recorded.length && prev !== recorded.at(-1)!.lastHash)
    return { ok: false, segment: recorded.at(-1)!.file, problem: "the archive does not end where the live log begins" };
  return { ok: true, segments: listed.length, archivedEvents, liveEvents: live.events, lastHash: live.events ? live.lastHash : prev };
}

function checkSegment(dir: string, s: SegmentEntry, prevHash: string): { problem: string; seq?: number; id?: string } | null {
  const file = path.join(dir, path.basename(s.file));
  let gz: Buffer;
  try {
    if (fs.statSync(file).size > MAX_SEGMENT_BYTES) return { problem: "the segment file is larger than any segment Gatehouse writes" };
    gz = fs.readFileSync(file);
  } catch (err) {
    return { problem: `the segment file is missing (${(err as NodeJS.ErrnoException).code ?? "unreadable"})` };
  }
  if (crypto.hash("sha256", gz, "hex") !== s.sha256)
    return { problem: "the segment file was changed: its SHA-256 does not match the manifest" };
  let text: string;
  try {
    text = zlib.gunzipSync(gz, { maxOutputLength: 4 * MAX_SEGMENT_BYTES }).toString("utf8");
  } catch {
    return { problem: "the segment file is not valid gzip" };
  }
  const rows: (HashedEvent & { seq: number; hash: string })[] = [];
  for (const line of text.split("\n")) {
    if (!line) continue;
    try {
      rows.push(JSON.parse(line));
    } catch {
      return { problem: `line ${rows.length + 1} is not JSON` };
    }
  }
  if (rows.length !== s.events) return { problem: `holds ${rows.length} event(s), the manifest says ${s.events}` };
  for (let i = 0; i < rows.length; i++) {
    if (rows[i]!.seq !== s.firstSeq + i) return { problem: "its events are not consecutive", seq: rows[i]!.seq, id: String(rows[i]!.id) };
  }
  const state = verifyChain(rows, { hash: prevHash });
  if (!state.ok) return { problem: state.firstBad.problem, seq: state.firstBad.seq, id: state.firstBad.id };
  if (rows[0]?.hash !== s.firstHash || state.lastHash !== s.lastHash)
    return { problem: "its first or last hash differs from the manifest" };
  return null;
}
