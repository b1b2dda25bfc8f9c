// What the sandbox sees when Gatehouse itself answers: a status, the outcome headers, and a JSON
// reason that tells the agent what to ask an Owner for.
import type { ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import { countUpstreamFailure } from "../metrics";
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
  /** For a host on no list: the host (and port) to ask an Owner to grant, as `error.host`. */
  ask?: string;
  /** `X-Gatehouse-Report-Only`, when the channel is in report-only mode (time-bound.ts). */
  reportOnly?: string;
};

/** What the status line says about a refusal concerning a host, in a few words. */
const ABOUT_HOST: Partial<Record<ProxyErrorCode, (host: string) => string>> = {
  host_not_allowed: (h) => `${h} is not allowed (ask an Owner to add it to a bundle)`,
  org_denied: (h) => `${h} is denied for the whole organisation`,
  private_address: (h) => `${h} resolves to a private address`,
  dns_failed: (h) => `${h} could not be resolved`,
  upstream_unreachable: (h) => `${h} could not be reached`,
  upstream_timeout: (h) => `${h} did not answer in time`,
  upstream_tls_failed: (h) => `the TLS certificate of ${h} did not verify`,
};

const MAX_PHRASE = 200;

/**
 * The reason phrase of the status line. It is what many tools print of a refusal, and all that
 * some print of a refused CONNECT (Python's "Tunnel connection failed: 403 …", requests'
 * "403 Client Error: …", npm's "403 … - GET …"), so it names the refusal and the host rather
 * than saying "Forbidden". RFC 9112 §4: printable ASCII only.
 */
export function reasonPhrase(a: ProxyAnswer): string {
  const who = a.status === 403 && a.outcome === "blocked" ? "Blocked by Gatehouse" : "Gatehouse";
  const about = a.host ? ABOUT_HOST[a.code]?.(a.host) : undefined;
  const text = `${who}: ${about ?? a.message}`
    .replace(/[^\x20-\x7e]+/g, " ")
    .replace(/ {2,}/g, " ")
    .trim();
  return text.length > MAX_PHRASE ? `${text.slice(0, MAX_PHRASE - 3)}...` : text;
}

/**
 * The contract's `{ error: { code, message, requestId } }`, and a top-level `message` that says
 * it all in one string, for tools that print a string field of the body and nothing else.
 */
function body(a: ProxyAnswer, phrase: string): string {
  return JSON.stringify({
    error: { code: a.code, message: a.message, requestId: a.requestId, ...(a.ask ? { host: a.ask } : {}) },
    message: `${phrase}. ${a.message} (${a.code}, request ${a.requestId})`,
  });
}

function headers(a: ProxyAnswer, payload: string): Record<string, string | number> {
  return {
    "Content-Type": "application/json; charset=utf-8",
    "Content-Length": Buffer.byteLength(payload),
    "X-Gatehouse-Outcome": a.outcome,
    "X-Gatehouse-Request-Id": a.requestId,
    "Cache-Control": "no-store",
    ...(a.reportOnly ? { "X-Gatehouse-Report-Only": a.reportOnly } : {}),
    ...(a.status === 407 ? { "Proxy-Authenticate": 'Basic realm="gatehouse"' } : {}),
    // A connection that could not authenticate, or sent what could not be read, is not kept:
    // nothing it sends next is worth the descriptor.
    ...(a.status === 407 || a.status === 400 ? { Connection: "close" } : {}),
  };
}

/** The answers that mean an upstream failed (gatehouse_upstream_failures_total), not a refusal. */
export const UPSTREAM_FAILURES: ReadonlySet<ProxyErrorCode> = new Set([
  "dns_failed",
  "upstream_unreachable",
  "upstream_tls_failed",
  "upstream_timeout",
  "upstream_invalid_response",
]);

export function answer(res: ServerResponse, a: ProxyAnswer): void {
  if (UPSTREAM_FAILURES.has(a.code)) countUpstreamFailure(a.code);
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const phrase = reasonPhrase(a);
  const payload = body(a, phrase);
  res.writeHead(a.status, phrase, headers(a, payload));
  res.end(payload);
}

/** The same answer on a raw socket (CONNECT, upgrades), then the socket closes. */
export function answerSocket(socket: Duplex, a: ProxyAnswer): void {
  if (UPSTREAM_FAILURES.has(a.code)) countUpstreamFailure(a.code);
  if (socket.destroyed) return;
  const phrase = reasonPhrase(a);
  const payload = body(a, phrase);
  const head = Object.entries({ ...headers(a, payload), Connection: "close" as const })
    .map(([k, v]) => `${k}: ${v}`)
    .join("\r\n");
  socket.end(`HTTP/1.1 ${a.status} ${phrase}\r\n${head}\r\n\r\n${payload}`);
}
