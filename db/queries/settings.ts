import { eq } from "drizzle-orm";
import type { Db } from "../client";
import { orgSettings } from "../schema";

export function readCa(db: Db): { certPem: string | null; keySealed: string | null } {
  const row = db.select({ certPem: orgSettings.caCertPem, keySealed: orgSettings.caKeySealed }).from(orgSettings).where(eq(orgSettings.id, 1)).get();
  return { certPem: row?.certPem ?? null, keySealed: row?.keySealed ?? null };
}

/** Stores a new CA only if there is none yet (another process may have just created one). */
export function storeCaIfAbsent(db: Db, certPem: string, keySealed: string): boolean {
  return db.$client.prepare("UPDATE org_settings SET ca_cert_pem = ?, ca_key_sealed = ? WHERE id = 1 AND ca_cert_pem IS NULL").run(certPem, keySealed).changes > 0;
}

/** The sealed known value that proves which master key sealed this data. */
export function readKeyCheck(db: Db): string | null {
  return db.select({ keyCheck: orgSettings.keyCheck }).from(orgSettings).where(eq(orgSettings.id, 1)).get()?.keyCheck ?? null;
}

export function writeKeyCheck(db: Db, keyCheck: string): void {
  db.update(orgSettings).set({ keyCheck }).where(eq(orgSettings.id, 1)).run();
}
