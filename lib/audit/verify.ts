import type { Db } from "../../db/client";
import { GENESIS_HASH, eventHash, type HashedEvent } from "./events";

export type ChainState =
  | { ok: true; events: number; lastHash: string }
  | { ok: false; events: number; firstBad: { seq: number; id: string; problem: string } };

type Row = HashedEvent & { seq: number; hash: string };

/** Walks the chain from the start; returns the first event whose hash or link does not verify. */
export function verifyChain(rows: Iterable<Row>): ChainState {
  let prev = GENESIS_HASH;
  let count = 0;
  for (const row of rows) {
    count++;
    if (row.prevHash !== prev) {
      return { ok: false, events: count, firstBad: { seq: row.seq, id: String(row.id), problem: "does not link to the event before it (an event was removed, inserted or reordered)" } };
    }
    if (eventHash(row) !== row.hash) {
      return { ok: false, events: count, firstBad: { seq: row.seq, id: String(row.id), problem: "its contents do not match its hash (the event was changed)" } };
    }
    prev = row.hash;
  }
  return { ok: true, events: count, lastHash: prev };
}

export function verifyAuditLog(db: Db): ChainState {
  const rows = db.$client
    .prepare(
      `SELECT seq, id, ts, kind, action, actor, request_id AS requestId, session_id AS sessionId, workspace, channel, thread,
              member, bundle, connection, service_account AS serviceAccount, method, scheme, host, port, path, outcome, rule,
              reason, status, bytes_in AS bytesIn, bytes_out AS bytesOut, duration_ms AS durationMs, detail,
              prev_hash AS prevHash, hash
         FROM audit_events ORDER BY seq`,
    )
    .iterate() as Iterable<Row>;
  return verifyChain(rows);
}
