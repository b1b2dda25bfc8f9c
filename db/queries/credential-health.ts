// A connection's upstream answers to its credential, from the audit log's partial index
// audit_credential_status (credentialed requests with an upstream status only).
import type { Db } from "../client";

export type CredentialAnswers = {
  /** Newest first, since `since`, at most `limit`: the upstream status of each credentialed request. */
  recent: { ts: number; status: number }[];
  /** The newest 2xx/3xx answer since `since`. */
  lastSuccessAt: number | null;
};

export async function credentialAnswers(
  db: Db,
  { bundle, connection, since, limit }: { bundle: string; connection: string; since: number; limit: number },
): Promise<CredentialAnswers> {
  const recent = db.$client
    .prepare(
      `SELECT ts, status FROM audit_events INDEXED BY audit_credential_status
        WHERE bundle = ? AND connection = ? AND outcome = 'credentialed' AND status IS NOT NULL AND ts >= ?
        ORDER BY ts DESC LIMIT ?`,
    )
    .all(bundle, connection, since, limit) as { ts: number; status: number }[];
  // Walks the index from the newest answer back to the first success: bounded by the failures
  // since then, which the recent answers already show.
  const lastSuccessAt = db.$client
    .prepare(
      `SELECT ts FROM audit_events INDEXED BY audit_credential_status
        WHERE bundle = ? AND connection = ? AND outcome = 'credentialed' AND status IS NOT NULL AND ts >= ? AND status BETWEEN 200 AND 399
        ORDER BY ts DESC LIMIT 1`,
    )
    .pluck()
    .get(bundle, connection, since) as number | undefined;
  return { recent, lastSuccessAt: lastSuccessAt ?? null };
}
