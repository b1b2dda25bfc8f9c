// A session's state at a moment: pure, the clock is an argument.
export type SessionTimes = {
  createdAt: number;
  lastSeenAt: number;
  expiresAt: number;
  idleTimeoutSeconds: number;
  revokedAt: number | null;
};

export type SessionState = "active" | "revoked" | "expired" | "idle";

export function sessionState(s: SessionTimes, now: number): SessionState {
  if (s.revokedAt !== null) return "revoked";
  if (now >= s.expiresAt) return "expired";
  if (now - s.lastSeenAt >= s.idleTimeoutSeconds * 1000) return "idle";
  return "active";
}
