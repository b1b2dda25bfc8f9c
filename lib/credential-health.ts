// A credential's health from the upstream's answers to it. Pure: the caller reads the answers
// and the clock.

export type HealthState = "healthy" | "failing" | "unused";

export type CredentialHealth = {
  state: HealthState;
  /** The newest 2xx/3xx upstream answer to a request carrying it, since it was set. */
  lastSuccessAt: number | null;
  /** Upstream answers with a status in the last 24 hours (since it was set, if later), at most HEALTH_LIMITS.maxAnswers. */
  answers24h: number;
  /** 401 and 403 among them. */
  authFailures24h: number;
  /** authFailures24h / answers24h, or null with no answers. */
  authFailureShare24h: number | null;
  /** No request has carried it since it was set. */
  neverUsedSinceSet: boolean;
  /** Why the state is what it is, in a sentence. */
  reason: string;
};

export const HEALTH_LIMITS = {
  windowMs: 24 * 3_600_000,
  /** Answers read per connection: bounds the check however busy the connection is. */
  maxAnswers: 10_000,
  /** This many 401/403 in a row, newest first, make it failing (fewer if it has had fewer answers). */
  failingStreak: 3,
  /** Or this share of 401/403 over the window, with at least minAnswers answers. */
  failingShare: 0.5,
  minAnswers: 4,
};

const isAuthFailure = (status: number) => status === 401 || status === 403;

export function credentialHealth({
  setAt,
  lastUsedAt,
  recent,
  lastSuccessAt,
  now,
  limits = HEALTH_LIMITS,
}: {
  setAt: number;
  lastUsedAt: number | null;
  /** Newest first, since setAt (at most HEALTH_LIMITS.maxAnswers). */
  recent: { ts: number; status: number }[];
  lastSuccessAt: number | null;
  now: number;
  limits?: typeof HEALTH_LIMITS;
}): CredentialHealth {
  const sinceSet = recent.filter((a) => a.ts >= setAt);
  const window = sinceSet.filter((a) => a.ts >= now - limits.windowMs);
  const authFailures24h = window.filter((a) => isAuthFailure(a.status)).length;
  const share = window.length ? authFailures24h / window.length : null;
  let streak = 0;
  while (streak < sinceSet.length && isAuthFailure(sinceSet[streak]!.status)) streak++;
  const neverUsedSinceSet = (lastUsedAt === null || lastUsedAt < setAt) && sinceSet.length === 0;
  const base = { lastSuccessAt, answers24h: window.length, authFailures24h, authFailureShare24h: share, neverUsedSinceSet };
  const needed = Math.min(limits.failingStreak, sinceSet.length);
  if (streak > 0 && streak >= needed) {
    return {
      ...base,
      state: "failing",
      reason: `the upstream refused it (401/403) on the last ${streak === 1 ? "request" : `${streak} requests`}${lastSuccessAt !== null ? "" : " since it was set"}: it may have been rotated or revoked there`,
    };
  }
  if (share !== null && window.length >= limits.minAnswers && share >= limits.failingShare) {
    return { ...base, state: "failing", reason: `${Math.round(share * 100)}% of its answers in the last 24 hours were 401/403` };
  }
  if (neverUsedSinceSet) return { ...base, state: "unused", reason: "no request has carried it since it was set" };
  if (sinceSet.length === 0) return { ...base, state: "healthy", reason: "attached since it was set; no upstream refusal seen" };
  return {
    ...base,
    state: "healthy",
    reason: authFailures24h
      ? `${authFailures24h} of ${window.length} answers in the last 24 hours were 401/403`
      : "no 401/403 from the upstream in the last 24 hours",
  };
}
