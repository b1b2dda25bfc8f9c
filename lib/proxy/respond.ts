// What the sandbox sees when Gatehouse itself answers: a status, the outcome headers, and a JSON
// reason that tells the agent what to ask an Owner for.
import type { ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import type { Outcome } from "../policy";

export type ProxyErrorCode =
  | "proxy_auth_required"
  | "session_revoked"
  | "session_expired"
  | "org_denied"
  | "host_not_allowed"
  | "userinfo_not_allowed"
  | "bad_target"
  | "unsupported_scheme"
  | "host_mismatch"
  | "sni_mismatch"
  | "private_address"
  | "dns_failed"
  | "upstream_unreachable"
  | "upstream_tls_failed"
  | "upstream_timeout"
  | "upstream_invalid_response"
  | "token_in_request"
  | "too_many_connections"
  | "bad_request"
  | "headers_too_large"
  | "request_timeout"
  | "audit_unavailable"
  | "policy_unavailable"
  | "internal_error";

export type ProxyAnswer = {
  status: number;
  code: ProxyErrorCode;
  message: string;
  outcome: Outcome;
  requestId: string;
  /** The host the refusal is about, named on the status line. */
  host?: string;
};

const REASONS: Record<number, string> = { 400: "Bad Request", 403: "Forbidden", 407: "Proxy Authentication Required", 408: "Request Timeout", 429: "Too Many Requests", 431: "Request Header Fields Too Large", 500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout" };

function body(a: ProxyAnswer): string {
  return JSON.stringify({ error: { code: a.code, message: a.message, requestId: a.requestId } });
}

function headers(a: ProxyAnswer, payload: string): Record<string, string | number> {
  return {
    "Content-Type": "application/json; charset=utf-8",
    "Content-Length": Buffer.byteLength(payload),
    "X-Gatehouse-Outcome": a.outcome,
    "X-Gatehouse-Request-Id": a.requestId,
    "Cache-Control": "no-store",
    ...(a.status === 407 ? { "Proxy-Authenticate": 'Basic realm="gatehouse"' } : {}),
  };
}

export function answer(res: ServerResponse, a: ProxyAnswer): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const payload = body(a);
  res.writeHead(a.status, headers(a, payload));
  res.end(payload);
}

/** The same answer on a raw socket (CONNECT, upgrades), then the socket closes. */
export function answerSocket(socket: Duplex, a: ProxyAnswer): void {
  if (socket.destroyed) return;
  const payload = body(a);
  const head = Object.entries({ ...headers(a, payload), Connection: "close" })
    .map(([k, v]) => `${k}: ${v}`)
    .join("\r\n");
  socket.end(`HTTP/1.1 ${a.status} ${REASONS[a.status] ?? "Error"}\r\n${head}\r\n\r\n${payload}`);
}
