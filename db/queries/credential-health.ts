// A connection's upstream answers to its credential, from the audit log's partial index
// audit_credential_status (credentialed requests with an upstream status only).
import { sql } from "drizzle-orm";
import type { Db } from "../client";
import { rawAll, rawGet } from "../raw";

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
  // SQLite is told the partial index; PostgreSQL's planner picks it from the same predicate.
  const from = db.gh.dialect === "sqlite" ? sql.raw("audit_events INDEXED BY audit_credential_status") : sql.raw("audit_events");
  const recent = await rawAll<{ ts: number; status: number }>(
    db,
    sql`SELECT ts, status FROM ${from}
        WHERE bundle = ${bundle} AND connection = ${connection} AND outcome = 'credentialed' AND status IS NOT NULL AND ts >= ${since}
        ORDER BY ts DESC LIMIT ${limit}`,
  );
  // Walks the index from the newest answer back to the first success: bounded by the failures
  // since then, which the recent answers already show.
  const success = await rawGet<{ ts: number }>(
    db,
    sql`SELECT ts FROM ${from}
        WHERE bundle = ${bundle} AND connection = ${connection} AND outcome = 'credentialed' AND status IS NOT NULL AND ts >= ${since}
          AND status BETWEEN 200 AND 399
        ORDER BY ts DESC LIMIT 1`,
  );
  return {
    recent: recent.map((r) => ({ ts: Number(r.ts), status: Number(r.status) })),
    lastSuccessAt: success ? Number(success.ts) : null,
  };
}
