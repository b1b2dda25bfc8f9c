import { and, eq, isNull } from "drizzle-orm";
import { sqliteOf, type Db } from "../client";
import { writeTransaction } from "../tx";
import { changes } from "../raw";

export async function readCa(db: Db): Promise<{ certPem: string | null; keySealed: string | null }> {
  const { orgSettings } = db.t;
  const row = (await db.select({ certPem: orgSettings.caCertPem, keySealed: orgSettings.caKeySealed }).from(orgSettings).where(eq(orgSettings.id, 1)))[0];
  return { certPem: row?.certPem ?? null, keySealed: row?.keySealed ?? null };
}

/** Stores a new CA only if there is none yet (another process may have just created one). */
export async function storeCaIfAbsent(db: Db, certPem: string, keySealed: string): Promise<boolean> {
  const { orgSettings } = db.t;
  return changes(await db.update(orgSettings).set({ caCertPem: certPem, caKeySealed: keySealed }).where(and(eq(orgSettings.id, 1), isNull(orgSettings.caCertPem)))) > 0;
}

/** The sealed known value that proves which master key sealed this data. */
export async function readKeyCheck(db: Db): Promise<string | null> {
  const { orgSettings } = db.t;
  return (await db.select({ keyCheck: orgSettings.keyCheck }).from(orgSettings).where(eq(orgSettings.id, 1)))[0]?.keyCheck ?? null;
}

export async function writeKeyCheck(db: Db, keyCheck: string): Promise<void> {
  // A write: inside the caller's transaction, or one of its own (SQLite's reader is read-only).
  return writeTransaction(db, async (db) => {
    const { orgSettings } = db.t;
    await db.update(orgSettings).set({ keyCheck }).where(eq(orgSettings.id, 1));
  });
}

export type Revisions = { policy: number; sessions: number };

export async function readRevisions(db: Db): Promise<Revisions> {
  const { orgSettings } = db.t;
  const row = (await db.select({ policy: orgSettings.policyRevision, sessions: orgSettings.sessionsRevision }).from(orgSettings).where(eq(orgSettings.id, 1)))[0];
  return row ?? { policy: 0, sessions: 0 };
}

/**
 * Both change counters in one indexed read: the proxy's whole per-request freshness check on
 * SQLite, synchronous (a local read costs microseconds). Each is bumped in the same transaction
 * as the change it announces.
 */
export function prepareRevisionsRead(db: Db): () => Revisions {
  const stmt = sqliteOf(db).prepare("SELECT policy_revision, sessions_revision FROM org_settings WHERE id = 1").raw();
  return () => {
    const row = stmt.get() as [number, number] | undefined;
    return row ? { policy: row[0], sessions: row[1] } : { policy: 0, sessions: 0 };
  };
}

/** The key check, synchronously: the proxy's rare re-check after a credential fails to open (SQLite). */
export function prepareKeyCheckRead(db: Db): () => string | null {
  const stmt = sqliteOf(db).prepare("SELECT key_check FROM org_settings WHERE id = 1").pluck();
  return () => (stmt.get() as string | null | undefined) ?? null;
}
