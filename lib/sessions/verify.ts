// Token → session, for the proxy on every request, revocation-exact: a verified session is kept
// in memory only while the sessions revision (bumped by every revocation, in the same
// transaction) is unchanged, so the check per request is one tiny indexed read.
import type { Db } from "../../db/client";
import { prepareSessionLookups, touchSession } from "../../db/queries/sessions";
import { tokenHash } from "../auth/tokens";
import { sessionState, type SessionState } from "./state";

export type VerifiedSession = {
  id: string;
  workspace: string;
  channel: string;
  thread: string;
  kind: "channel" | "dm";
  memberId: string;
};

export type SessionCheck = { ok: true; session: VerifiedSession } | { ok: false; reason: "unknown" | Exclude<SessionState, "active"> };

/** lastSeenAt is written at most this often: idle expiry is exact to within this. */
export const DEFAULT_TOUCH_INTERVAL_MS = 5_000;
const CACHE_LIMIT = 10_000;

type Row = VerifiedSession & {
  createdAt: number;
  lastSeenAt: number;
  expiresAt: number;
  idleTimeoutSeconds: number;
  revokedAt: number | null;
};
type Cached = { row: Row; session: VerifiedSession; revision: number; written: number };

export class SessionVerifier {
  readonly #q: ReturnType<typeof prepareSessionLookups>;
  readonly #cache = new Map<string, Cached>();

  readonly #touch: (id: string, at: number) => void;
  readonly #touchInterval: number;

  /**
   * `touch` records traffic on a session (every `touchInterval` ms at most); by default an UPDATE
   * here, the proxy sends it through its journal so no request waits on the write lock.
   */
  constructor(db: Db, touch?: (id: string, at: number) => void, touchInterval: number = DEFAULT_TOUCH_INTERVAL_MS) {
    this.#q = prepareSessionLookups(db);
    this.#touch = touch ?? ((id, at) => touchSession(db, id, at));
    this.#touchInterval = touchInterval;
  }

  /** Ids of sessions revoked at or after `since` (the proxy closes their sockets). */
  revokedSince(since: number): string[] {
    return this.#q.revokedSince.all(since) as string[];
  }

  /** `revision`: the sessions revision, when the caller has just read it (see prepareRevisionsRead). */
  verify(token: string, now: number, revision: number = (this.#q.revision.get() as number | undefined) ?? 0): SessionCheck {
    // Keyed by the token itself, which this process holds anyway for the request: a cache hit
    // costs no hashing.
    let entry = this.#cache.get(token);
    let fresh = false;
    if (!entry || entry.revision !== revision) {
      const row = this.#q.byTokenHash.get(tokenHash(token)) as Row | undefined;
      if (!row) {
        this.#cache.delete(token);
        return { ok: false, reason: "unknown" };
      }
      entry = {
        row,
        session: { id: row.id, workspace: row.workspace, channel: row.channel, thread: row.thread, kind: row.kind, memberId: row.memberId },
        revision,
        written: row.lastSeenAt,
      };
      if (this.#cache.size >= CACHE_LIMIT) this.#cache.clear();
      this.#cache.set(token, entry);
      fresh = true;
    }
    let state = sessionState(entry.row, now);
    if (state === "idle" && !fresh) {
      // The traffic may have gone through another process: its touches are in the database.
      const row = this.#q.byTokenHash.get(tokenHash(token)) as Row | undefined;
      if (row) entry.row.lastSeenAt = Math.max(entry.row.lastSeenAt, row.lastSeenAt);
      state = sessionState(entry.row, now);
    }
    if (state !== "active") {
      this.#cache.delete(token);
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
