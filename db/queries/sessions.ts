import { and, desc, eq, gt, gte, isNull, lt, sql } from "drizzle-orm";
import { sqliteOf, type Db } from "../client";
import { writeTransaction } from "../tx";
import { changes } from "../raw";
import type { sessions } from "../schema";

export type SessionRow = typeof sessions.$inferSelect;

export async function insertSession(db: Db, row: typeof sessions.$inferInsert): Promise<void> {
  // A write: inside the caller's transaction, or one of its own (SQLite's reader is read-only).
  return writeTransaction(db, async (db) => {
    await db.insert(db.t.sessions).values(row);
  });
}

export async function findSession(db: Db, id: string): Promise<SessionRow | undefined> {
  const { sessions } = db.t;
  return (await db.select().from(sessions).where(eq(sessions.id, id)).limit(1))[0];
}

/** Revokes and bumps the sessions revision in one statement pair; call inside a transaction. */
export async function markSessionRevoked(db: Db, id: string, at: number, by: string): Promise<boolean> {
  const { sessions, orgSettings } = db.t;
  const changed = changes(await db.update(sessions).set({ revokedAt: at, revokedBy: by }).where(and(eq(sessions.id, id), isNull(sessions.revokedAt)))) > 0;
  if (changed) await db.update(orgSettings).set({ sessionsRevision: sql`${orgSettings.sessionsRevision} + 1` }).where(eq(orgSettings.id, 1));
  return changed;
}

/** Sessions without their token hash: what pages and the API may show. */
export async function listSessions(db: Db, limit: number) {
  const { sessions } = db.t;
  return db
    .select({
      id: sessions.id,
      workspace: sessions.workspace,
      channel: sessions.channel,
      thread: sessions.thread,
      kind: sessions.kind,
      memberId: sessions.memberId,
      createdBy: sessions.createdBy,
      createdAt: sessions.createdAt,
      lastSeenAt: sessions.lastSeenAt,
      expiresAt: sessions.expiresAt,
      idleTimeoutSeconds: sessions.idleTimeoutSeconds,
      revokedAt: sessions.revokedAt,
      revokedBy: sessions.revokedBy,
    })
    .from(sessions)
    .orderBy(desc(sessions.createdAt))
    .limit(limit);
}

export async function countActiveSessions(db: Db, now: number): Promise<number> {
  const { sessions } = db.t;
  return Number(
    (
      await db
        .select({ n: sql<number>`count(*)` })
        .from(sessions)
        .where(and(isNull(sessions.revokedAt), gt(sessions.expiresAt, now), sql`${sessions.lastSeenAt} + ${sessions.idleTimeoutSeconds} * 1000 > ${now}`))
    )[0]?.n ?? 0,
  );
}

export async function readSessionSettings(db: Db): Promise<{ idleTimeoutSeconds: number; maxLifetimeSeconds: number }> {
  const { orgSettings } = db.t;
  const row = (await db.select({ idleTimeoutSeconds: orgSettings.idleTimeoutSeconds, maxLifetimeSeconds: orgSettings.maxLifetimeSeconds }).from(orgSettings).where(eq(orgSettings.id, 1)))[0];
  return row ?? { idleTimeoutSeconds: 1800, maxLifetimeSeconds: 86400 };
}

export async function writeSessionSettings(db: Db, s: { idleTimeoutSeconds: number; maxLifetimeSeconds: number }): Promise<void> {
  // A write: inside the caller's transaction, or one of its own (SQLite's reader is read-only).
  return writeTransaction(db, async (db) => {
    const { orgSettings } = db.t;
    await db.update(orgSettings).set(s).where(eq(orgSettings.id, 1));
  });
}

/** What the proxy needs of a session to admit a request with its token. */
export type SessionLookupRow = {
  id: string;
  workspace: string;
  channel: string;
  thread: string;
  kind: "channel" | "dm";
  memberId: string;
  createdAt: number;
  lastSeenAt: number;
  expiresAt: number;
  idleTimeoutSeconds: number;
  revokedAt: number | null;
};

export async function findSessionByTokenHash(db: Db, hash: string): Promise<SessionLookupRow | undefined> {
  const { sessions } = db.t;
  return (
    await db
      .select({
        id: sessions.id, workspace: sessions.workspace, channel: sessions.channel, thread: sessions.thread, kind: sessions.kind, memberId: sessions.memberId,
        createdAt: sessions.createdAt, lastSeenAt: sessions.lastSeenAt, expiresAt: sessions.expiresAt, idleTimeoutSeconds: sessions.idleTimeoutSeconds, revokedAt: sessions.revokedAt,
      })
      .from(sessions)
      .where(eq(sessions.tokenHash, hash))
      .limit(1)
  )[0];
}

export async function sessionsRevokedSince(db: Db, since: number): Promise<string[]> {
  const { sessions } = db.t;
  return (await db.select({ id: sessions.id }).from(sessions).where(gte(sessions.revokedAt, since))).map((r) => r.id);
}

/** The proxy's per-request session statements on SQLite, prepared once (synchronous). */
export function prepareSessionLookups(db: Db) {
  const c = sqliteOf(db);
  return {
    byTokenHash: c.prepare(
      `SELECT id, workspace, channel, thread, kind, member_id AS memberId, created_at AS createdAt, last_seen_at AS lastSeenAt,
              expires_at AS expiresAt, idle_timeout_seconds AS idleTimeoutSeconds, revoked_at AS revokedAt
         FROM sessions WHERE token_hash = ?`,
    ),
    revision: c.prepare("SELECT sessions_revision FROM org_settings WHERE id = 1").pluck(),
    revokedSince: c.prepare("SELECT id FROM sessions WHERE revoked_at >= ?").pluck(),
  };
}

/** Every (workspace, channel) a session was ever granted in. */
export async function listSessionChannels(db: Db): Promise<{ workspace: string; channel: string }[]> {
  const { sessions } = db.t;
  return db.selectDistinct({ workspace: sessions.workspace, channel: sessions.channel }).from(sessions);
}

/** Records traffic on a session; never moves last_seen_at backwards. */
export async function touchSession(db: Db, id: string, at: number): Promise<void> {
  // A write: inside the caller's transaction, or one of its own (SQLite's reader is read-only).
  return writeTransaction(db, async (db) => {
    const { sessions } = db.t;
    await db.update(sessions).set({ lastSeenAt: at }).where(and(eq(sessions.id, id), lt(sessions.lastSeenAt, at)));
  });
}
