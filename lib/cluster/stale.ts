/**
 * Thrown where the proxy reads its revisions while this replica cannot confirm they are current
 * (freshness.ts); the proxy answers it with 503 policy_unavailable. Its own module so the proxy
 * does not load the PostgreSQL client on SQLite.
 */
export class PolicyStaleError extends Error {
  readonly code = "policy_stale";
}
