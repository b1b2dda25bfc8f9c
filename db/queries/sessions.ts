import { and, desc, eq, gt, isNull, sql } from "drizzle-orm";
import type { Db } from "../client";
import { orgSettings, sessions } from "../schema";

export type SessionRow = typeof sessions.$inferSelect;

export function insertSession(db: Db, row: typeof sessions.$inferInsert): void {
  db.insert(sessions).values(row).run();
}

export function findSession(db: Db, id: string): SessionRow | undefined {
  return db.select().from(sessions).where(eq(sessions.id, id)).get();
}

/** Revokes and bumps the sessions revision in one statement pair; call inside a transaction. */
export function markSessionRevoked(db: Db, id: string, at: number, by: string): boolean {
  const changed =
    db
      .update(sessions)
      .set({ revokedAt: at, revokedBy: by })
      .where(and(eq(sessions.id, id), isNull(sessions.revokedAt)))
      .run().changes > 0;
  if (changed)
    db.update(orgSettings)
      .set({ sessionsRevision: sql`${orgSettings.sessionsRevision} + 1` })
      .where(eq(orgSettings.id, 1))
      .run();
  return changed;
}

/** Sessions without their token hash: what pages and the API may show. */
export function listSessions(db: Db, limit: number) {
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
    .limit(limit)
    .all();
}

export function countActiveSessions(db: Db, now: number): number {
  return (
    db
      .select({ n: sql<number>`count(*)` })
      .from(sessions)
      .where(
        and(
          isNull(sessions.revokedAt),
          gt(sessions.expiresAt, now),
          sql`${sessions.lastSeenAt} + ${sessions.idleTimeoutSeconds} * 1000 > ${now}`,
        ),
      )
      .get()?.n ?? 0
  );
}

export function readSessionSettings(db: Db): { idleTimeoutSeconds: number; maxLifetimeSeconds: number } {
  const row = db
    .select({ idleTimeoutSeconds: orgSettings.idleTimeoutSeconds, maxLifetimeSeconds: orgSettings.maxLifetimeSeconds })
    .from(orgSettings)
    .where(eq(orgSettings.id, 1))
    .get();
  return row ?? { idleTimeoutSeconds: 1800, maxLifetimeSeconds: 86400 };
}

export function writeSessionSettings(db: Db, s: { idleTimeoutSeconds: number; maxLifetimeSeconds: number }): void {
  db.update(orgSettings).set(s).where(eq(orgSettings.id, 1)).run();
}

/** The proxy's per-request session statements, prepared once. */
export function prepareSessionLookups(db: Db) {
  return {
    byTokenHash: db.$client.prepare(
      `SELECT id, workspace, channel, thread, kind, member_id AS memberId, created_at AS createdAt, last_seen_at AS lastSeenAt,
              expires_at AS expiresAt, idle_timeout_seconds AS idleTimeoutSeconds, revoked_at AS revokedAt
         FROM sessions WHERE token_hash = ?`,
    ),
    revision: db.$client.prepare("SELECT sessions_revision FROM org_settings WHERE id = 1").pluck(),
    revokedSince: db.$client.prepare("SELECT id FROM sessions WHERE revoked_at >= ?").pluck(),
  };
}

/** Every (workspace, channel) a session was ever granted in. */
export function listSessionChannels(db: Db): { workspace: string; channel: string }[] {
  return db.selectDistinct({ workspace: sessions.workspace, channel: sessions.channel }).from(sessions).all();
}

/** Records traffic on a session; never moves last_seen_at backwards. */
export function touchSession(db: Db, id: string, at: number): void {
  db.$client.prepare("UPDATE sessions SET last_seen_at = ? WHERE id = ? AND last_seen_at < ?").run(at, id, at);
}
