// Gatehouse's own canned answers: what a sandbox is told when its session is missing or gone,
// when a limit is reached, or when Gatehouse itself cannot go on (policy or journal unreadable).
import type http from "node:http";
import type { Duplex } from "node:stream";
import { LIMITS, newRequestId } from "./core";
import { answer, type ProxyAnswer, type ProxyErrorCode } from "./respond";

export type AuthFailureReason = "missing" | "unknown" | "revoked" | "expired" | "idle";

const AUTH_MESSAGES = {
  missing: "a Gatehouse session token is required (Proxy-Authorization: Basic with the token as password, or Bearer)",
  unknown: "the session token is not valid",
  revoked: "this session was revoked; ask the orchestrator for a new one",
  expired: "this session reached its maximum lifetime; ask the orchestrator for a new one",
  idle: "this session expired after its idle timeout; ask the orchestrator for a new one",
} as const;

export function authFailure(requestId: string, reason: AuthFailureReason): ProxyAnswer {
  const code: ProxyErrorCode = reason === "revoked" ? "session_revoked" : reason === "expired" || reason === "idle" ? "session_expired" : "proxy_auth_required";
  return { status: 407, code, message: AUTH_MESSAGES[reason], outcome: "blocked", requestId };
}

export function tooManyConnections(requestId: string): ProxyAnswer {
  return { status: 429, code: "too_many_connections", message: `this session already has ${LIMITS.connectionsPerSession} open connections`, outcome: "blocked", requestId };
}

export function auditUnavailable(requestId: string): ProxyAnswer {
  return { status: 503, code: "audit_unavailable", message: "Gatehouse cannot record this request in its audit log right now, so it does not go out; try again shortly", outcome: "blocked", requestId };
}

export const errorCode = (err: unknown) => (err as NodeJS.ErrnoException).code ?? (err as Error).message;
let policyFailureLoggedAt = 0;

/** The policy or sessions could not be read: the request does not go out, the process goes on. */
export function policyUnavailable(requestId: string, err: unknown): ProxyAnswer {
  // Once per 10 s: while the database is gone, every request would say the same.
  if (Date.now() - policyFailureLoggedAt > 10_000) {
    policyFailureLoggedAt = Date.now();
    console.error(`gatehouse proxy: the policy could not be read (${errorCode(err)}); refusing requests until it can`);
  }
  return { status: 503, code: "policy_unavailable", message: "Gatehouse cannot read its policy right now, so the request does not go out; try again shortly", outcome: "blocked", requestId };
}

export function internalError(res: http.ServerResponse, err: unknown): void {
  console.error(`gatehouse proxy: a request failed inside Gatehouse (${errorCode(err)})`);
  answer(res, { status: 500, code: "internal_error", message: "Gatehouse failed to handle this request; nothing went upstream", outcome: "blocked", requestId: newRequestId() });
}

/** A tunnel or upgrade that failed inside Gatehouse after it was accepted. */
export function dropped(socket: Duplex, err: unknown): void {
  console.error(`gatehouse proxy: a tunnel failed (${errorCode(err)})`);
  socket.destroy();
}

/** A request that failed inside Gatehouse rather than upstream. */
export function failed(res: http.ServerResponse, requestId: string): void {
  if (!res.headersSent) answer(res, { status: 502, code: "upstream_unreachable", message: "the request failed", outcome: "blocked", requestId });
  else res.destroy();
}

export function journalFailed(err: unknown): void {
  console.error(`gatehouse proxy: the egress journal could not be written (${errorCode(err)}); refusing requests until it can`);
}
