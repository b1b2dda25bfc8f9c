// One admission step for every way into the proxy: absolute-form HTTP, CONNECT (blind or
// intercepted), requests and WebSocket upgrades inside an intercepted tunnel, WebSocket
// upgrades on the forward listener, and the embedded route. Each transport first refuses what
// is its own to refuse (an unreadable target; a Host or SNI that differs from its tunnel's:
// `tunnelHostMismatch`, `sniMismatch`), then hands the request here:
//   session → header limits → connection cap → token in the request → decide → (resolve)
// so that the same refusal gets the same answer and the same audit event (outcome, rule,
// reason) whatever the shape it arrived in.
import type http from "node:http";
import type { Duplex } from "node:stream";
import type { Revisions } from "../../db/queries/settings";
import type { SessionCheck } from "../sessions/verify";
import { hostHeader, parseAuthority, type CompiledPolicy, type Decision, type Target } from "../policy";
import { authFailure, tooManyConnections } from "./answers";
import { LIMITS, type Attempt, type ProxyCore, type Refused, type Tunnel } from "./core";
import { hasMethodOverride } from "./headers";
import type { ResolvedAddress, ResolveResult } from "./resolve";
import type { ProxyAnswer } from "./respond";
import { refusalExtras } from "./time-bound";
import { tokenInRequest } from "./token";

/** A request (or a tunnel, or an upgrade) as the transport read it, to be admitted. */
export type Candidate = {
  requestId: string;
  token: string | null;
  /** Upper case; `CONNECT` for a tunnel. */
  method: string;
  /** The canonical target; a tunnel's has an empty path. */
  target: Target;
  rawHeaders: string[];
  headers: http.IncomingHttpHeaders;
  /**
   * The sandbox's connection, counted against the session's limit. Null inside an intercepted
   * tunnel: the tunnel counted once, at its CONNECT.
   */
  connection: Duplex | null;
};

export type Admitted = { ok: true; attempt: Attempt; decision: Decision; policy: CompiledPolicy };
/** Answered and, when the session is known, recorded: the caller only sends `answer`. */
export type Refusal = { ok: false; answer: ProxyAnswer };

const refusal = (answer: ProxyAnswer): Refusal => ({ ok: false, answer });

/** What a refusal of `x` is about, for its audit event. */
const aboutOf = (x: Candidate): Refused => ({
  method: x.method,
  scheme: x.target.scheme,
  host: x.target.host,
  port: x.target.port,
  path: x.target.path || null,
});

/**
 * Replicas on PostgreSQL hold sessions in memory: a token this process has not seen yet is read
 * once, asynchronously, and the entry point admits again with what was read (`fetched`). Null
 * when there is nothing to read (no token, the session is held here, or SQLite): admit at once.
 */
export function sessionToFetch(c: ProxyCore, token: string | null, revisions: Revisions): Promise<SessionCheck> | null {
  const { sessions, now } = c.d;
  if (!token || !sessions.fetch || sessions.verify(token, now(), revisions.sessions) !== undefined) return null;
  return sessions.fetch(token, now(), revisions.sessions);
}

/**
 * Session, limits, the token's own leak check and the decision, in that order. A blocked
 * decision is recorded here; an allowed one is the caller's to record (after resolution, and
 * for the pipeline in one journal write per turn).
 */
export function admit(c: ProxyCore, x: Candidate, revisions: Revisions, fetched?: SessionCheck): Admitted | Refusal {
  const { d, audit } = c;
  const { requestId, token, target } = x;
  // Undefined (a replica's unread session) only when the caller skipped sessionToFetch: refused.
  const check = token ? (fetched ?? d.sessions.verify(token, d.now(), revisions.sessions)) : null;
  // No session to record it under: a missing, unknown, expired or revoked token is answered only.
  if (!token || !check || !check.ok) return refusal(authFailure(requestId, check && !check.ok ? check.reason : "missing"));
  const session = check.session;
  if (x.rawHeaders.length / 2 > LIMITS.maxHeaderCount) {
    return refusal(
      audit.refuse(session, aboutOf(x), {
        status: 431,
        code: "headers_too_large",
        message: `more than ${LIMITS.maxHeaderCount} request headers`,
        outcome: "blocked",
        requestId,
      }),
    );
  }
  if (countHeader(x.rawHeaders, "content-length") > 1) {
    return refusal(
      audit.refuse(session, aboutOf(x), {
        status: 400,
        code: "bad_request",
        message: "duplicate Content-Length",
        outcome: "blocked",
        requestId,
      }),
    );
  }
  if (x.connection && !c.sockets.track(session.id, x.connection)) {
    return refusal(audit.refuse(session, aboutOf(x), tooManyConnections(requestId, d.env.proxyLimits.connectionsPerSession)));
  }
  const leak = tokenInRequest(
    token,
    `${target.scheme}://${hostHeader(target.host, target.port, target.scheme)}${target.path}${target.search}`,
    x.rawHeaders,
  );
  if (leak) {
    return refusal(
      audit.refuse(session, aboutOf(x), {
        status: 403,
        code: "token_in_request",
        message: `the request carries the session token ${leak}; it would leak upstream`,
        outcome: "blocked",
        requestId,
      }),
    );
  }
  const attempt: Attempt = { requestId, started: d.now(), session, token, method: x.method, target, policyRevision: revisions.policy };
  const policy = d.policy.current(revisions.policy);
  const decision = policy.decide(session.workspace, session.channel, {
    method: x.method,
    scheme: target.scheme,
    host: target.host,
    port: target.port,
    path: target.path || "/",
    methodOverride: hasMethodOverride(x.headers),
  });
  if (decision.outcome === "blocked") {
    audit.record(attempt, decision, { status: 403 });
    return refusal({
      status: 403,
      code: decision.code ?? "host_not_allowed",
      message: decision.reason,
      outcome: "blocked",
      requestId,
      host: target.host,
      ...refusalExtras(decision, target),
    });
  }
  return { ok: true, attempt, decision, policy };
}

/**
 * The address an admitted request may dial, or its refusal, recorded: a private address is
 * blocked under the SSRF rule; a name that does not resolve is a failure (502) of the request
 * as it was decided.
 */
export function resolution(
  c: ProxyCore,
  a: Attempt,
  decision: Decision,
  r: ResolveResult,
): { ok: true; address: ResolvedAddress } | Refusal {
  if (r.ok) return r;
  const status = r.code === "private_address" ? 403 : 502;
  const outcome = status === 403 ? "blocked" : decision.outcome;
  c.audit.record(a, { ...decision, outcome, reason: r.message, rule: status === 403 ? "ssrf:private_address" : decision.rule }, { status });
  return refusal({
    status,
    code: r.code,
    message: r.message,
    outcome,
    requestId: a.requestId,
    host: a.target.host,
    ...refusalExtras({ ...decision, code: undefined }, a.target),
  });
}

export async function resolveAdmitted(
  c: ProxyCore,
  a: Attempt,
  decision: Decision,
): Promise<{ ok: true; address: ResolvedAddress } | Refusal> {
  return resolution(c, a, decision, await c.d.resolver.resolve(a.target.host));
}

/** A request or upgrade inside a tunnel must name the tunnel's target in its Host; null when it does. */
export function tunnelHostMismatch(c: ProxyCore, tunnel: Tunnel, req: http.IncomingMessage, requestId: string): ProxyAnswer | null {
  const value = req.headers.host;
  const inner = value ? parseAuthority(value, "https") : null;
  if (inner && !("error" in inner) && inner.host === tunnel.host && inner.port === tunnel.port) return null;
  const message = `the request's Host (${value ?? "none"}) differs from the CONNECT target ${tunnel.host}:${tunnel.port}`;
  return c.audit.refuse(
    tunnel.session,
    { method: req.method ?? "GET", scheme: "https", host: tunnel.host, port: tunnel.port, path: null },
    { status: 403, code: "host_mismatch", message, outcome: "blocked", requestId },
  );
}

/**
 * A tunnel whose ClientHello names another host, or cannot be read as one: recorded under the
 * CONNECT's request id, the same for blind and intercepted tunnels.
 */
export function tunnelRefusal(
  c: ProxyCore,
  tunnel: Tunnel,
  requestId: string,
  what: { sni: string } | { error: string; timedOut: boolean },
): ProxyAnswer {
  const answer: ProxyAnswer =
    "sni" in what
      ? {
          status: 403,
          code: "sni_mismatch",
          message: `TLS SNI ${what.sni} differs from the CONNECT target ${tunnel.host}`,
          outcome: "blocked",
          requestId,
        }
      : {
          status: what.timedOut ? 408 : 400,
          code: what.timedOut ? "request_timeout" : "bad_request",
          message: `not a TLS ClientHello (${what.error})`,
          outcome: "blocked",
          requestId,
        };
  return c.audit.refuse(tunnel.session, { method: "CONNECT", scheme: "https", host: tunnel.host, port: tunnel.port, path: null }, answer);
}

function countHeader(rawHeaders: string[], lowerName: string): number {
  let n = 0;
  for (let i = 0; i < rawHeaders.length; i += 2)
    if (rawHeaders[i]!.length === lowerName.length && rawHeaders[i]!.toLowerCase() === lowerName) n++;
  return n;
}
