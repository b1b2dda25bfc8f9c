import { sql } from "drizzle-orm";
import type { Db } from "../../db/client";
import { AUDIT_COLUMNS } from "../../db/queries/audit";
import { rawAll, rawGet } from "../../db/raw";
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

/** Rows read per query while walking the chain: memory stays flat at any log size. */
const PAGE_ROWS = 2000;

/** The chain's rows in seq order, after `after`, at most `limit` (-1: all), read page by page. */
export async function* chainRows(db: Db, after = 0, limit = -1): AsyncGenerator<Row> {
  let last = after;
  let left = limit < 0 ? Infinity : limit;
  while (left > 0) {
    const page = await rawAll<Row>(
      db,
      sql`SELECT ${AUDIT_COLUMNS} FROM audit_events WHERE seq > ${last} ORDER BY seq LIMIT ${Math.min(PAGE_ROWS, left)}`,
    );
    for (const r of page) yield r;
    if (page.length < Math.min(PAGE_ROWS, left)) return;
    left -= page.length;
    last = page[page.length - 1]!.seq;
  }
}

/** The last event moved into an archive segment (see archive.ts): the live log continues its hash. */
export async function archivedPoint(db: Db): Promise<VerifiedPoint | null> {
  const row = await rawGet<VerifiedPoint>(
    db,
    sql`SELECT last_seq AS seq, last_hash AS hash FROM audit_archive_segments ORDER BY last_seq DESC LIMIT 1`,
  );
  return row ? { seq: Number(row.seq), hash: row.hash } : null;
}

/**
 * The whole live chain (from the last archived hash, if events were archived), or only the
 * events after a point verified before (cheap, for dashboards).
 */
export async function verifyAuditLog(db: Db, after?: VerifiedPoint, limit = -1): Promise<ChainState & { lastSeq: number }> {
  const archived = await archivedPoint(db);
  if (archived && (!after || after.seq < archived.seq)) after = archived;
  let prev = after?.hash ?? GENESIS_HASH;
  let lastSeq = after?.seq ?? 0;
  let count = 0;
  for await (const page of pages(chainRows(db, after?.seq ?? 0, limit))) {
    const state = verifyChain(page, { hash: prev });
    if (!state.ok) return { ok: false, events: count + state.events, firstBad: state.firstBad, lastSeq: state.firstBad.seq };
    count += state.events;
    prev = state.lastHash;
    lastSeq = page[page.length - 1]!.seq;
  }
  return { ok: true, events: count, lastHash: prev, lastSeq };
}

async function* pages<T>(rows: AsyncIterable<T>, size = PAGE_ROWS): AsyncGenerator<T[]> {
  let page: T[] = [];
  for await (const r of rows) {
    page.push(r);
    if (page.length >= size) {
      yield page;
      page = [];
    }
  }
  if (page.length) yield page;
}
