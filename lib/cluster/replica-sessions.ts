// Token → session for the proxy on PostgreSQL (SessionVerifier's counterpart on SQLite): answered
// from memory, kept current by the change feed. Every sessions-revision change re-reads the
// cached sessions in one query before the feed hands the new revision out (replica.ts), and the
// sessions found revoked are pushed to whoever closes their sockets. A token not cached yet costs
// its first request one read (fetch); after that, no request waits on the database.
import { gte, inArray } from "drizzle-orm";
import type { Db } from "../../db/client";
import type { SessionLookupRow } from "../../db/queries/sessions";
import { tokenHash } from "../auth/tokens";
import { sessionState } from "../sessions/state";
import type { SessionCheck, VerifiedSession } from "../sessions/verify";

const CACHE_LIMIT = 10_000;
/** Hashes per re-read query (one bound parameter each). */
const RELOAD_CHUNK = 1_000;
/**
 * Sessions revoked this recently are looked for on every reload, besides the cached ones (a
 * session whose entry was evicted may still hold sockets); revocation times are the revoking
 * replica's clock, so the window is wide.
 */
const REVOKED_LOOKBACK_MS = 10 * 60_000;
const UNKNOWN_TTL_MS = 60_000;

type Cached = { hash: string; row: SessionLookupRow; session: VerifiedSession; revision: number; written: number };

function lookupColumns(db: Db) {
  const s = db.t.sessions;
  return {
    id: s.id,
    workspace: s.workspace,
    channel: s.channel,
    thread: s.thread,
    kind: s.kind,
    memberId: s.memberId,
    tokenHash: s.tokenHash,
    createdAt: s.createdAt,
    lastSeenAt: s.lastSeenAt,
    expiresAt: s.expiresAt,
    idleTimeoutSeconds: s.idleTimeoutSeconds,
    revokedAt: s.revokedAt,
  };
}

export class ReplicaSessions {
  readonly #db: Db;
  readonly #touch: (id: string, at: number) => void;
  readonly #touchInterval: number;
  readonly #clock: () => number;
  /** By token (held for the request anyway: a hit costs no hashing). */
  readonly #cache = new Map<string, Cached>();
  /** Session ids seen revoked, with this replica's time of seeing it (for revokedSince). */
  readonly #revoked = new Map<string, number>();
  readonly #onRevoked = new Set<() => void>();
  /** Tokens no session has, until when (this replica's clock) they are refused without a read. */
  readonly #unknown = new Map<string, number>();

  constructor(db: Db, touch: (id: string, at: number) => void, touchInterval: number, clock: () => number = Date.now) {
    this.#db = db;
    this.#touch = touch;
    this.#touchInterval = touchInterval;
    this.#clock = clock;
  }

  /**
   * From memory: undefined when this replica must read the session first (not cached, cached
   * before the revision the caller holds, or idle here while its traffic may have gone elsewhere).
   */
  verify(token: string, now: number, revision: number): SessionCheck | undefined {
    const entry = this.#cache.get(token);
    // An entry re-read for a newer revision than the caller's is newer, not stale.
    if (!entry || entry.revision < revision) return undefined;
    return this.#check(token, entry, now, false);
  }

  /** The one read a request may wait on: the session behind a token this replica has not seen (or must re-check). */
  async fetch(token: string, now: number, revision: number): Promise<SessionCheck> {
    const unknownUntil = this.#unknown.get(token);
    if (unknownUntil !== undefined && unknownUntil > this.#clock()) return { ok: false, reason: "unknown" };
    const hash = tokenHash(token);
    const row = (
      await this.#db
        .select(lookupColumns(this.#db))
        .from(this.#db.t.sessions)
        .where(inArray(this.#db.t.sessions.tokenHash, [hash]))
        .limit(1)
    )[0];
    if (!row) {
      this.#cache.delete(token);
      // A token is random and first handed out when its session is committed: one that is
      // unknown now was guessed or made up, and asking again soon would only load the database.
      if (this.#unknown.size >= CACHE_LIMIT) this.#unknown.clear();
      this.#unknown.set(token, this.#clock() + UNKNOWN_TTL_MS);
      return { ok: false, reason: "unknown" };
    }
    const prior = this.#cache.get(token);
    // Tagged with the revision the caller held before the read: if a reload ran meanwhile
    // without this entry, the next request reads it again.
    const entry: Cached = { hash, row, session: sessionOf(row), revision, written: prior?.written ?? row.lastSeenAt };
    if (prior) row.lastSeenAt = Math.max(row.lastSeenAt, prior.row.lastSeenAt);
    if (!prior && this.#cache.size >= CACHE_LIMIT) this.#cache.clear();
    this.#cache.set(token, entry);
    return this.#check(token, entry, now, true)!;
  }

  /** Ids of sessions this replica has seen revoked at or after `since` (its own clock). */
  revokedSince(since: number): string[] {
    const out: string[] = [];
    for (const [id, at] of this.#revoked) if (at >= since) out.push(id);
    return out;
  }

  /** Called after a reload that found sessions revoked (the proxy closes their sockets then). */
  onRevoked(fn: () => void): () => void {
    this.#onRevoked.add(fn);
    return () => this.#onRevoked.delete(fn);
  }

  /**
   * The change feed's reload for a new sessions revision (or after a reconnect): re-reads every
   * cached session and the recent revocations; entries re-read are valid for `revision`.
   */
  async reload(revision: number): Promise<void> {
    const entries = [...this.#cache.entries()];
    const byHash = new Map<string, SessionLookupRow & { tokenHash: string }>();
    const { sessions } = this.#db.t;
    for (let i = 0; i < entries.length; i += RELOAD_CHUNK) {
      const hashes = entries.slice(i, i + RELOAD_CHUNK).map(([, e]) => e.hash);
      for (const row of await this.#db.select(lookupColumns(this.#db)).from(sessions).where(inArray(sessions.tokenHash, hashes)))
        byHash.set(row.tokenHash, row);
    }
    const recent = await this.#db
      .select({ id: sessions.id })
      .from(sessions)
      .where(gte(sessions.revokedAt, this.#clock() - REVOKED_LOOKBACK_MS));
    const seenAt = this.#clock();
    let found = false;
    const revoked = (id: string) => {
      if (this.#revoked.has(id)) return;
      this.#revoked.set(id, seenAt);
      found = true;
    };
    for (const { id } of recent) revoked(id);
    for (const [token, entry] of entries) {
      if (this.#cache.get(token) !== entry) continue; // replaced by a fetch meanwhile
      const row = byHash.get(entry.hash);
      if (!row) {
        // Deleted: as good as revoked.
        this.#cache.delete(token);
        revoked(entry.session.id);
        continue;
      }
      if (row.revokedAt !== null) revoked(row.id);
      row.lastSeenAt = Math.max(row.lastSeenAt, entry.row.lastSeenAt);
      entry.row = row;
      entry.revision = Math.max(entry.revision, revision);
    }
    for (const [id, at] of this.#revoked) if (at < seenAt - REVOKED_LOOKBACK_MS) this.#revoked.delete(id);
    if (found) for (const fn of this.#onRevoked) fn();
  }

  /** Undefined only when not `fresh` (the caller must read the session). */
  #check(token: string, entry: Cached, now: number, fresh: boolean): SessionCheck | undefined {
    const state = sessionState(entry.row, now);
    // Its traffic may have gone through another replica: their touches are in the database.
    if (state === "idle" && !fresh) return undefined;
    if (state !== "active") {
      // Revoked and expired are final: answered from memory from now on.
      if (state === "idle") this.#cache.delete(token);
      return { ok: false, reason: state };
    }
    entry.row.lastSeenAt = Math.max(entry.row.lastSeenAt, now);
    if (now - entry.written >= this.#touchInterval) {
      this.#touch(entry.row.id, now);
      entry.written = now;
    }
    return { ok: true, session: entry.session };
  }
}

function sessionOf(row: SessionLookupRow): VerifiedSession {
  return { id: row.id, workspace: row.workspace, channel: row.channel, thread: row.thread, kind: row.kind, memberId: row.memberId };
}
