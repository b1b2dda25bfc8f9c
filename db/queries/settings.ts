import { eq } from "drizzle-orm";
import type { Db } from "../client";
import { orgSettings } from "../schema";

export function readCa(db: Db): { certPem: string | null; keySealed: string | null } {
  const row = db
    .select({ certPem: orgSettings.caCertPem, keySealed: orgSettings.caKeySealed })
    .from(orgSettings)
    .where(eq(orgSettings.id, 1))
    .get();
  return { certPem: row?.certPem ?? null, keySealed: row?.keySealed ?? null };
}

/** Stores a new CA only if there is none yet (another process may have just created one). */
export function storeCaIfAbsent(db: Db, certPem: string, keySealed: string): boolean {
  return (
    db.$client
      .prepare("UPDATE org_settings SET ca_cert_pem = ?, ca_key_sealed = ? WHERE id = 1 AND ca_cert_pem IS NULL")
      .run(certPem, keySealed).changes > 0
  );
}

/** The sealed known value that proves which master key sealed this data. */
export function readKeyCheck(db: Db): string | null {
  return db.select({ keyCheck: orgSettings.keyCheck }).from(orgSettings).where(eq(orgSettings.id, 1)).get()?.keyCheck ?? null;
}

export function writeKeyCheck(db: Db, keyCheck: string): void {
  db.update(orgSettings).set({ keyCheck }).where(eq(orgSettings.id, 1)).run();
}

export type Revisions = { policy: number; sessions: number };

/**
 * Both change counters in one indexed read: the proxy's whole per-request freshness check.
 * Each is bumped in the same transaction as the change it announces.
 */
export function prepareRevisionsRead(db: Db): () => Revisions {
  const stmt = db.$client.prepare("SELECT policy_revision, sessions_revision FROM org_settings WHERE id = 1").raw();
  return () => {
    const row = stmt.get() as [number, number] | undefined;
    return row ? { policy: row[0], sessions: row[1] } : { policy: 0, sessions: 0 };
  };
}
