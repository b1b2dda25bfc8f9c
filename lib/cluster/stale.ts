/**
 * Thrown where the proxy reads its revisions while this replica cannot confirm they are current
 * (freshness.ts); the proxy answers it with 503 policy_unavailable. Its own module so the proxy
 * does not load the PostgreSQL client on SQLite.
 */
export class PolicyStaleError extends Error {
  readonly code = "policy_stale";
}

let freshness: (() => string | null) | null = null;

/** The change feed of this process registers here, so /readyz can say when it is stale. */
export function registerFreshness(refusal: () => string | null): void {
  freshness = refusal;
}

/** Null when current or when this process has no change feed (SQLite); else why not. */
export function freshnessProblem(): string | null {
  return freshness ? freshness() : null;
}
