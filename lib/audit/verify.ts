import type { Db } from "../../db/client";
import { GENESIS_HASH, eventHash, type HashedEvent } from "./events";

export type ChainState =
  { ok: true; events: number; lastHash: string } | { ok: false; events: number; firstBad: { seq: number; id: string; problem: string } };

type Row = HashedEvent & { seq: number; hash: string };

/** Walks the chain (from the start, or on from a verified point); returns the first event whose hash or link does not verify. */
export function verifyChain(rows: Iterable<Row>, from: { hash: string } = { hash: GENESIS_HASH }): ChainState {
  let prev = from.hash;
  let count = 0;
  for (const row of rows) {
    count++;
    if (row.prevHash !== prev) {
      return {
        ok: false,
        events: count,
        firstBad: {
          seq: row.seq,
          id: String(row.id),
          problem: "does not link to the event before it (an event was removed, inserted or reordered)",
        },
      };
    }
    if (eventHash(row) !== row.hash) {
      return {
        ok: false,
        events: count,
        firstBad: { seq: row.seq, id: String(row.id), problem: "its contents do not match its hash (the event was changed)" },
      };
    }
    prev = row.hash;
  }
  return { ok: true, events: count, lastHash: prev };
}

export type VerifiedPoint = { seq: number; hash: string };

/** The last event moved into an archive segment (see archive.ts): the live log continues its hash. */
export function archivedPoint(db: Db): VerifiedPoint | null {
  const row = db.$client
    .prepare("SELECT last_seq AS seq, last_hash AS hash FROM audit_archive_segments ORDER BY last_seq DESC LIMIT 1")
    .get() as VerifiedPoint | undefined;
  return row ?? null;
}

/**
 * The whole live chain (from the last archived hash, if events were archived), or only the
 * events after a point verified before (cheap, for dashboards).
 */
export function verifyAuditLog(db: Db, after?: VerifiedPoint, limit = -1): ChainState & { lastSeq: number } {
  const archived = archivedPoint(db);
  if (archived && (!after || after.seq < archived.seq)) after = archived;
  const rows = db.$client
    .prepare(
      `SELECT seq, id, ts, kind, action, actor, request_id AS requestId, session_id AS sessionId, workspace, channel, thread,
              member, bundle, connection, service_account AS serviceAccount, method, scheme, host, port, path, outcome, rule,
              reason, status, bytes_in AS bytesIn, bytes_out AS bytesOut, duration_ms AS durationMs, detail,
              prev_hash AS prevHash, hash
         FROM audit_events WHERE seq > ? ORDER BY seq LIMIT ?`,
    )
    .iterate(after?.seq ?? 0, limit) as Iterable<Row>;
  let lastSeq = after?.seq ?? 0;
  const tracked = (function* () {
    for (const r of rows) {
      lastSeq = r.seq;
      yield r;
    }
  })();
  const state = verifyChain(tracked, after ? { hash: after.hash } : undefined);
  return { ...state, lastSeq };
}
