// Token → session, for the proxy on every request: one indexed lookup by hash, no decryption,
// no cache of the answer, so a revocation applies to the very next request.
import type { Statement } from "better-sqlite3";
import type { Db } from "../../db/client";
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
const TOUCH_INTERVAL_MS = 5_000;

type Row = VerifiedSession & { createdAt: number; lastSeenAt: number; expiresAt: number; idleTimeoutSeconds: number; revokedAt: number | null };

export class SessionVerifier {
  readonly #lookup: Statement;
  readonly #touch: Statement;
  constructor(db: Db) {
    this.#lookup = db.$client.prepare(
      `SELECT id, workspace, channel, thread, kind, member_id AS memberId, created_at AS createdAt, last_seen_at AS lastSeenAt,
              expires_at AS expiresAt, idle_timeout_seconds AS idleTimeoutSeconds, revoked_at AS revokedAt
         FROM sessions WHERE token_hash = ?`,
    );
    this.#touch = db.$client.prepare("UPDATE sessions SET last_seen_at = ? WHERE id = ? AND last_seen_at < ?");
  }

  verify(token: string, now: number): SessionCheck {
    const row = this.#lookup.get(tokenHash(token)) as Row | undefined;
    if (!row) return { ok: false, reason: "unknown" };
    const state = sessionState(row, now);
    if (state !== "active") return { ok: false, reason: state };
    if (now - row.lastSeenAt >= TOUCH_INTERVAL_MS) this.#touch.run(now, row.id, now);
    return { ok: true, session: { id: row.id, workspace: row.workspace, channel: row.channel, thread: row.thread, kind: row.kind, memberId: row.memberId } };
  }
}
