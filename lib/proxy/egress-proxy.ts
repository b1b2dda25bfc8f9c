// The proxy core. Three entry points (absolute-form HTTP, CONNECT, the embedded route) feed one
// pipeline: canonical target → session → decide → audit → dispatch. Transports differ;
// decisions do not.
import crypto from "node:crypto";
import http from "node:http";
import net from "node:net";
import { Readable, type Duplex } from "node:stream";
import tls from "node:tls";
import { Agent, buildConnector, type Dispatcher } from "undici";
import type { Db } from "../../db/client";
import { preparePolicyLookups } from "../../db/queries/policy";
import { prepareRevisionsRead, type Revisions } from "../../db/queries/settings";
import { followKeyRotation } from "../bootstrap";
import type { EgressJournal, JournalRequest } from "../audit/journal";
import type { Env, ProxyTimeouts } from "../env";
import { decidedPath, hostHeader, isTargetError, parseAbsoluteTarget, parseAuthority, parseConnectTarget, type Decision, type Target } from "../policy";
import type { PolicyCache } from "../policy-cache";
import type { SessionVerifier, VerifiedSession } from "../sessions/verify";
import type { Secret, Vault } from "../vault";
import type { LeafIssuer } from "./ca";
import { MAX_CLIENT_HELLO_BYTES, parseClientHello } from "./client-hello";
import { downstreamResponseHeaders, hasMethodOverride, upstreamRequestHeaders } from "./headers";
import { applyCredential, redactionNeedles } from "./inject";
import type { Resolver } from "./resolve";
import { Relay, upstreamFailure } from "./relay";
import { answer, answerSocket, type ProxyAnswer, type ProxyErrorCode } from "./respond";
import { sessionToken, TokenBodyScan, tokenInRequest } from "./token";
import { confineToSandbox } from "./embedded";
import { RequestDeadlines } from "./request-deadlines";
import { formatHead, isWebSocketKey, switchedToWebSocket } from "./upgrade";
import { answerProxyHealth } from "./health";
import { logger } from "../log";
import { countCredentialDenial, countEgress, markArrival, observeOverhead, tunnelClosed, tunnelOpened, webSocketClosed, webSocketOpened } from "../metrics";
import { scrapeThroughPrimary } from "../metrics/cluster";
import { answerMetrics } from "../metrics/endpoint";
import type { ParentProxy } from "./parent-proxy";

const log = logger("proxy");

export const LIMITS = {
  maxHeaderBytes: 32 * 1024,
  maxHeaderCount: 100,
  connectionsPerSession: 256,
};

/**
 * Options for a server that reads sandbox requests (the forward listener and the one inside
 * intercepted tunnels). Node checks its request timeouts on an interval, 30 s unless told: too
 * coarse for a 15 s header timeout, so it checks four times per header timeout, at most once a second.
 */
export function sandboxServerOptions(timeouts: ProxyTimeouts): http.ServerOptions {
  return {
    maxHeaderSize: LIMITS.maxHeaderBytes,
    headersTimeout: timeouts.requestHeaders,
    requestTimeout: timeouts.request,
    connectionsCheckingInterval: Math.min(1_000, Math.ceil(timeouts.requestHeaders / 4)),
    keepAliveTimeout: 5_000,
  };
}

export type ProxyDeps = {
  db: Db;
  vault: Vault;
  env: Env;
  now: () => number;
  resolver: Resolver;
  policy: PolicyCache;
  sessions: SessionVerifier;
  audit: EgressJournal;
  issuer: LeafIssuer;
  upstreamCa: string[];
  /** GATEHOUSE_UPSTREAM_PROXY: upstreams the resolver marks `viaParent` are dialled through it. */
  parent?: ParentProxy;
};

type Entry = "forward" | "intercept" | "embedded";

/** What a CONNECT established: every request inside it must stay on this target. */
type Tunnel = { host: string; port: number; token: string; session: VerifiedSession; clientSocket: net.Socket; spoke?: boolean; deadlines?: RequestDeadlines };

type Attempt = {
  requestId: string;
  started: number;
  session: VerifiedSession;
  token: string;
  method: string;
  target: Target;
  /** The policy revision the request was decided under. */
  policyRevision?: number;
  /** Its record in the journal, once written; the completion reuses it. */
  journaled?: JournalRequest;
};

/** What an early refusal was about, for its audit event. */
type Refused = { method: string | null; scheme: "http" | "https"; host: string | null; port: number | null; path: string | null };

const refusedAt = (req: http.IncomingMessage, target: Target): Refused => ({ method: req.method ?? "GET", scheme: target.scheme, host: target.host, port: target.port, path: target.path });

/** A request that arrived and waits to be admitted with the others of its turn of the event loop. */
type Arrival = { req: http.IncomingMessage; res: http.ServerResponse; entry: Entry; target: Target; requestId: string; token: string | null };

/** A request that was allowed, ready to be recorded and sent. */
type Outgoing = {
  req: http.IncomingMessage;
  res: http.ServerResponse;
  attempt: Attempt;
  /** The decision as it applies (allowlisted if the credential has gone). */
  decision: Decision;
  headers: Record<string, string | string[]>;
  hasBody: boolean;
  needles: string[];
  /** The connection whose credential was attached, if one was. */
  credential: string | null;
  /** Path and query as they go upstream: with a credential, the path that was decided on. */
  path: string;
};

/** A session's open sockets: all are closed when it is revoked; only sandbox connections are counted. */
type SessionSockets = { all: Set<Duplex>; connections: number };

/** What the proxy needs again when a relayed exchange is over. */
type RelayContext = { attempt: Attempt; decision: Decision; credential: string | null; again: Dispatcher.DispatchOptions | null };

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

// Unique without a syscall per request: a random per-process prefix and a counter.
const REQUEST_ID_PREFIX = `req_${crypto.randomBytes(6).toString("base64url")}`;
let requestCounter = 0;
function newRequestId(): string {
  return `${REQUEST_ID_PREFIX}${(requestCounter++).toString(36)}`;
}

export class EgressProxy {
  readonly #d: ProxyDeps;
  readonly #agent: Agent;
  readonly #upstreamTls: tls.SecureContext;
  /** Serves requests that arrive inside intercepted TLS tunnels. */
  readonly #inner: http.Server;
  readonly #tunnels = new WeakMap<net.Socket, Tunnel>();
  readonly #socketsBySession = new Map<string, SessionSockets>();
  #revocationTimer: NodeJS.Timeout | null = null;
  readonly #sealedCredential: ReturnType<typeof preparePolicyLookups>["sealedCredential"];
  #lastRevocationCheck: number;
  readonly #revisions: () => Revisions;
  readonly #credentialTouched = new Map<string, number>();
  #arrivals: Arrival[] = [];
  /** Connections per peer address that have not yet presented a valid session, and their releases. */
  readonly #unauthenticated = new Map<string, number>();
  readonly #releaseOnAuthentication = new WeakMap<Duplex, () => void>();
  /** Sealed credentials by connection identity (null: none), valid for #sealedRevision. */
  readonly #sealed = new Map<string, string | null>();
  #sealedRevision: number | undefined;

  constructor(deps: ProxyDeps) {
    this.#d = deps;
    const timeouts = deps.env.proxyTimeouts;
    this.#upstreamTls = tls.createSecureContext({ ca: deps.upstreamCa });
    this.#agent = new Agent({
      // One parsed trust store for every upstream connection, not one per connection.
      connect: ((direct) => (deps.parent ? deps.parent.connector(buildConnector(direct), this.#upstreamTls, timeouts.connect) : direct))({ secureContext: this.#upstreamTls, rejectUnauthorized: true, lookup: deps.resolver.lookupForDial, timeout: timeouts.connect }),
      keepAliveTimeout: 10_000,
      connections: 256,
      headersTimeout: timeouts.responseHeaders,
      bodyTimeout: timeouts.idle,
    });
    this.#inner = http.createServer(sandboxServerOptions(timeouts), this.#interceptedEntry);
    this.#inner.on("clientError", (err, socket) => this.#onClientError(err, socket));
    this.#lastRevocationCheck = deps.now();
    this.#sealedCredential = preparePolicyLookups(deps.db).sealedCredential;
    this.#revisions = prepareRevisionsRead(deps.db);
  }

  /** Attaches the forward-proxy handlers to a server. */
  attach(server: http.Server): void {
    server.on("request", this.#forwardEntry);
    server.on("connect", (req, socket: net.Socket, head) => this.#onConnect(req, socket, head));
    server.on("clientError", (err, socket) => this.#onClientError(err, socket));
    server.on("upgrade", (req, socket: net.Socket, head: Buffer) => this.#onUpgrade(req, socket, head, null));
    // Node times a request's headers from their first byte: a connection that never sends one
    // would be held for ever.
    server.on("connection", (socket: net.Socket) => {
      if (!this.#admitConnection(socket)) return;
      closeIfSilent(socket, this.#d.env.proxyTimeouts.requestHeaders, () => socket.bytesRead === 0, [socket]);
    });
    this.#inner.on("upgrade", (req, socket: net.Socket, head: Buffer) => this.#onUpgrade(req, socket, head, this.#tunnels.get(socket) ?? null));
    this.#revocationTimer = setInterval(() => this.#closeRevokedSessions(), 500);
    this.#revocationTimer.unref();
  }

  async close(): Promise<void> {
    if (this.#revocationTimer) clearInterval(this.#revocationTimer);
    for (const { all } of this.#socketsBySession.values()) for (const s of all) s.destroy();
    this.#socketsBySession.clear();
    this.#inner.close();
    await this.#agent.close();
    this.#d.audit.close();
  }

  // ── Entry points ────────────────────────────────────────────────────────────────────────

  // A fault in handling one request answers that request, and the process goes on. (Bound once:
  // no closure per request.)
  readonly #forwardEntry = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    try {
      this.#onForwardRequest(req, res);
    } catch (err) {
      internalError(res, err);
    }
  };

  readonly #interceptedEntry = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    try {
      this.#onInterceptedRequest(req, res);
    } catch (err) {
      internalError(res, err);
    }
  };

  /** Plain HTTP in absolute form. */
  #onForwardRequest(req: http.IncomingMessage, res: http.ServerResponse): void {
    if (answerProxyHealth(req, res, this.#d.db, this.#d.env.dataDir)) return;
    if (req.url?.charCodeAt(0) === 0x2f && answerMetrics(req, res, this.#d.env.metricsToken, scrapeThroughPrimary)) return;
    const requestId = newRequestId();
    const token = sessionToken(req.headers["proxy-authorization"]);
    const target = parseAbsoluteTarget(req.url ?? "");
    if (isTargetError(target) || target.scheme !== "http") {
      const about: Refused = { method: req.method ?? "GET", scheme: "http", host: isTargetError(target) ? null : target.host, port: isTargetError(target) ? null : target.port, path: null };
      let refusal: ProxyAnswer;
      // An origin-form request is not a proxy request at all.
      if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(req.url ?? "")) refusal = { status: 400, code: "bad_request", message: "this is a forward proxy: send absolute-form requests (http://host/path) or CONNECT", outcome: "blocked", requestId };
      else if (isTargetError(target)) refusal = { status: target.error === "userinfo_not_allowed" ? 403 : 400, code: target.error, message: target.message, outcome: "blocked", requestId };
      else refusal = { status: 400, code: "unsupported_scheme", message: "send https:// requests through CONNECT", outcome: "blocked", requestId };
      return answer(res, this.#refuse(this.#knownSession(token), about, refusal));
    }
    this.#arrive(req, res, "forward", target, requestId, token);
  }

  /** ANY /proxy/{scheme}/{host[:port]}/{path}?{query} on the dashboard port. */
  handleEmbedded(req: http.IncomingMessage, res: http.ServerResponse): void {
    try {
      this.#onEmbeddedRequest(req, res);
    } catch (err) {
      internalError(res, err);
    }
  }

  #onEmbeddedRequest(req: http.IncomingMessage, res: http.ServerResponse): void {
    const requestId = newRequestId();
    confineToSandbox(req, res);
    const m = /^\/proxy\/([^/]+)\/([^/?#]+)(\/[^?#]*)?(\?[^#]*)?$/.exec(req.url ?? "");
    const bad = (message: string, code: ProxyErrorCode = "bad_target") =>
      answer(res, this.#refuse(this.#knownSession(sessionToken(req.headers["proxy-authorization"])), { method: req.method ?? "GET", scheme: "https", host: null, port: null, path: null }, { status: code === "userinfo_not_allowed" ? 403 : 400, code, message, outcome: "blocked", requestId }));
    if (!m) return bad("use /proxy/{http|https}/{host[:port]}/{path}");
    const scheme = m[1]!.toLowerCase();
    if (scheme !== "http" && scheme !== "https") return bad(`scheme ${m[1]} is not supported`, "unsupported_scheme");
    let authority: string;
    try {
      authority = decodeURIComponent(m[2]!);
    } catch {
      return bad(`${m[2]} is not a host: its percent-encoding is malformed`);
    }
    const target = parseAbsoluteTarget(`${scheme}://${authority}${m[3] ?? "/"}${m[4] ?? ""}`);
    if (isTargetError(target)) return bad(target.message, target.error === "userinfo_not_allowed" ? "userinfo_not_allowed" : "bad_target");
    this.#arrive(req, res, "embedded", target, requestId, sessionToken(req.headers["proxy-authorization"]));
  }

  /** A request inside an intercepted tunnel: its Host must be the tunnel's target. */
  #onInterceptedRequest(req: http.IncomingMessage, res: http.ServerResponse): void {
    const requestId = newRequestId();
    const tunnel = this.#tunnels.get(req.socket as net.Socket);
    if (!tunnel) return answer(res, { status: 400, code: "bad_request", message: "unknown tunnel", outcome: "blocked", requestId });
    tunnel.spoke = true;
    tunnel.deadlines?.requestStarted(req, res);
    const hostHeaderValue = req.headers.host;
    const inner = hostHeaderValue ? parseAuthority(hostHeaderValue, "https") : null;
    if (!inner || "error" in inner || inner.host !== tunnel.host || inner.port !== tunnel.port) {
      const message = `the request's Host (${hostHeaderValue ?? "none"}) differs from the CONNECT target ${tunnel.host}:${tunnel.port}`;
      return answer(res, this.#refuse(tunnel.session, { method: req.method ?? "GET", scheme: "https", host: tunnel.host, port: tunnel.port, path: null }, { status: 403, code: "host_mismatch", message, outcome: "blocked", requestId }));
    }
    const url = req.url ?? "/";
    const target = parseAbsoluteTarget(url.startsWith("/") ? `https://${hostHeader(tunnel.host, tunnel.port, "https")}${url}` : url);
    if (isTargetError(target) || target.host !== tunnel.host || target.port !== tunnel.port || target.scheme !== "https") {
      const message = isTargetError(target) ? target.message : "the request target differs from the tunnel's";
      return answer(res, this.#refuse(tunnel.session, { method: req.method ?? "GET", scheme: "https", host: tunnel.host, port: tunnel.port, path: null }, { status: 400, code: "bad_target", message, outcome: "blocked", requestId }));
    }
    // The tunnel's token, re-checked on every request: a revoked session stops mid-connection.
    this.#arrive(req, res, "intercept", target, requestId, tunnel.token);
  }

  #onConnect(req: http.IncomingMessage, socket: net.Socket, head: Buffer): void {
    const requestId = newRequestId();
    socket.on("error", () => socket.destroy());
    try {
      this.#connect(req, socket, head, requestId);
    } catch (err) {
      answerSocket(socket, policyUnavailable(requestId, err));
    }
  }

  #connect(req: http.IncomingMessage, socket: net.Socket, head: Buffer, requestId: string): void {
    const token = sessionToken(req.headers["proxy-authorization"]);
    const revisions = this.#revisions();
    const check = token ? this.#d.sessions.verify(token, this.#d.now(), revisions.sessions) : null;
    if (!token || !check || !check.ok) return answerSocket(socket, this.#authFailure(requestId, check && !check.ok ? check.reason : "missing"));
    const session = check.session;
    const authority = parseConnectTarget(req.url ?? "");
    if ("error" in authority) {
      return answerSocket(socket, this.#refuse(session, { method: "CONNECT", scheme: "https", host: null, port: null, path: null }, { status: authority.error === "userinfo_not_allowed" ? 403 : 400, code: authority.error, message: authority.message, outcome: "blocked", requestId }));
    }
    if (!this.#track(session.id, socket)) return answerSocket(socket, this.#refuse(session, { method: "CONNECT", scheme: "https", host: authority.host, port: authority.port, path: null }, tooManyConnections(requestId)));

    const { host, port } = authority;
    const compiled = this.#d.policy.current(revisions.policy);
    const decision = compiled.decide(session.workspace, session.channel, { method: "CONNECT", scheme: "https", host, port, path: "/", methodOverride: false });
    if (decision.outcome === "blocked") {
      this.#audit({ requestId, started: this.#d.now(), session, token, method: "CONNECT", target: { scheme: "https", host, port, path: "", search: "" } }, decision, { status: 403 });
      return answerSocket(socket, { status: 403, code: decision.code ?? "host_not_allowed", message: decision.reason, outcome: "blocked", requestId, host });
    }
    if (head.length) socket.unshift(head);
    if (compiled.credentialMayApply(session.workspace, session.channel, host)) {
      this.#intercept(socket, { host, port, token, session, clientSocket: socket }, requestId).catch((err) => dropped(socket, err));
    } else {
      this.#blindTunnel(socket, { host, port, token, session, clientSocket: socket }, decision, requestId).catch((err) => dropped(socket, err));
    }
  }

  /**
   * WebSocket upgrades: the same target, session, decision and audit as any request; then bytes
   * are relayed. No credential is attached (see #relayUpgrade).
   */
  #onUpgrade(req: http.IncomingMessage, socket: net.Socket, head: Buffer, tunnel: Tunnel | null): void {
    if (tunnel) {
      tunnel.spoke = true;
      tunnel.deadlines?.stop();
    }
    const requestId = newRequestId();
    socket.on("error", () => socket.destroy());
    try {
      this.#upgrade(req, socket, head, tunnel, requestId);
    } catch (err) {
      answerSocket(socket, policyUnavailable(requestId, err));
    }
  }

  #upgrade(req: http.IncomingMessage, socket: net.Socket, head: Buffer, tunnel: Tunnel | null, requestId: string): void {
    const token = tunnel ? tunnel.token : sessionToken(req.headers["proxy-authorization"]);
    const refuse = (refusal: ProxyAnswer) => {
      const about: Refused = { method: req.method ?? "GET", scheme: tunnel ? "https" : "http", host: tunnel?.host ?? null, port: tunnel?.port ?? null, path: null };
      answerSocket(socket, this.#refuse(tunnel ? tunnel.session : this.#knownSession(token), about, refusal));
    };
    if (String(req.headers.upgrade ?? "").toLowerCase() !== "websocket") {
      return refuse({ status: 400, code: "bad_request", message: `only WebSocket upgrades are relayed, not ${String(req.headers.upgrade ?? "")}`, outcome: "blocked", requestId });
    }
    // Without the sandbox's key, the upstream's 101 could not be told from a server that ignored the upgrade.
    if (!isWebSocketKey(req.headers["sec-websocket-key"])) {
      return refuse({ status: 400, code: "bad_request", message: "a WebSocket upgrade needs a Sec-WebSocket-Key (RFC 6455 section 4.1)", outcome: "blocked", requestId });
    }
    let target: Target | ReturnType<typeof parseAbsoluteTarget>;
    if (tunnel) {
      const inner = req.headers.host ? parseAuthority(req.headers.host, "https") : null;
      if (!inner || "error" in inner || inner.host !== tunnel.host || inner.port !== tunnel.port) {
        return refuse({ status: 403, code: "host_mismatch", message: `the request's Host (${req.headers.host ?? "none"}) differs from the CONNECT target ${tunnel.host}:${tunnel.port}`, outcome: "blocked", requestId });
      }
      target = parseAbsoluteTarget(`https://${hostHeader(tunnel.host, tunnel.port, "https")}${req.url ?? "/"}`);
    } else {
      target = parseAbsoluteTarget((req.url ?? "").replace(/^ws:/i, "http:"));
    }
    if (isTargetError(target)) return refuse({ status: target.error === "userinfo_not_allowed" ? 403 : 400, code: target.error, message: target.message, outcome: "blocked", requestId });
    const revisions = this.#revisions();
    const check = token ? this.#d.sessions.verify(token, this.#d.now(), revisions.sessions) : null;
    if (!token || !check || !check.ok) return answerSocket(socket, this.#authFailure(requestId, check && !check.ok ? check.reason : "missing"));
    if (req.rawHeaders.length / 2 > LIMITS.maxHeaderCount) return refuse({ status: 431, code: "headers_too_large", message: `more than ${LIMITS.maxHeaderCount} request headers`, outcome: "blocked", requestId });
    // The same check as every other request: an upgrade's URL or headers must not carry the token out.
    const leak = tokenInRequest(token, `${target.scheme}://${hostHeader(target.host, target.port, target.scheme)}${target.path}${target.search}`, req.rawHeaders);
    if (leak) return refuse({ status: 403, code: "token_in_request", message: `the request carries the session token ${leak}; it would leak upstream`, outcome: "blocked", requestId });
    if (!this.#track(check.session.id, socket)) return refuse(tooManyConnections(requestId));
    this.#relayUpgrade(req, socket, head, { requestId, started: this.#d.now(), session: check.session, token, method: "GET", target, policyRevision: revisions.policy }).catch((err) => dropped(socket, err));
  }

  async #relayUpgrade(req: http.IncomingMessage, socket: net.Socket, head: Buffer, a: Attempt): Promise<void> {
    const { target, session } = a;
    const decision = this.#d.policy.current(a.policyRevision).decide(session.workspace, session.channel, { method: "GET", scheme: target.scheme, host: target.host, port: target.port, path: target.path, methodOverride: hasMethodOverride(req.headers) });
    if (decision.outcome === "blocked") {
      this.#audit(a, decision, { status: 403 });
      return answerSocket(socket, { status: 403, code: decision.code ?? "host_not_allowed", message: decision.reason, outcome: "blocked", requestId: a.requestId, host: target.host });
    }
    const resolved = await this.#d.resolver.resolve(target.host);
    if (!resolved.ok) {
      const status = resolved.code === "private_address" ? 403 : 502;
      this.#audit(a, { ...decision, outcome: status === 403 ? "blocked" : decision.outcome, reason: resolved.message }, { status });
      return answerSocket(socket, { status, code: resolved.code, message: resolved.message, outcome: status === 403 ? "blocked" : decision.outcome, requestId: a.requestId, host: target.host });
    }
    const headers = upstreamRequestHeaders(req.headers, a.token, { upgrade: true });
    headers.host = hostHeader(target.host, target.port, target.scheme);
    // Frames cannot be scanned for a reflected secret the way bodies are, so the credential
    // stays home: the upgrade goes out as allowlisted.
    const effective: Decision =
      decision.outcome === "credentialed"
        ? { ...decision, outcome: "allowlisted", connection: undefined, nearMiss: decision.connection, reason: `${decision.reason.split(";")[0]}; credentials are not attached to WebSocket upgrades, whose frames cannot be scanned for a reflected secret` }
        : decision;
    if (!this.#audit(a, effective, {})) return answerSocket(socket, auditUnavailable(a.requestId));
    const timeouts = this.#d.env.proxyTimeouts;
    const connectOpts = { host: resolved.address.address, port: target.port, timeout: timeouts.connect };
    // Through the parent: the tunnel first, then TLS inside it as on a direct connection.
    const viaParent = resolved.address.viaParent ? await this.#d.parent!.tunnel(target.host, target.port, timeouts.connect).catch((err: NodeJS.ErrnoException) => err) : null;
    if (viaParent instanceof Error) {
      this.#complete(a, effective, { status: upstreamFailure(viaParent).status, bytesIn: 0, bytesOut: 0, reason: viaParent.message });
      return answerSocket(socket, { ...upstreamFailure(viaParent), outcome: effective.outcome, requestId: a.requestId, host: target.host });
    }
    const upstream: net.Socket =
      target.scheme === "https"
        ? tls.connect({ ...connectOpts, ...(viaParent ? { socket: viaParent } : {}), servername: target.host, secureContext: this.#upstreamTls, rejectUnauthorized: true })
        : (viaParent?.resume() ?? net.connect(connectOpts));
    this.#track(session.id, upstream, "companion");
    const ours = { "X-Gatehouse-Outcome": effective.outcome, "X-Gatehouse-Request-Id": a.requestId };
    let bytesIn = 0;
    let bytesOut = 0;
    let headSent = false;
    let finished = false;
    let deadline: NodeJS.Timeout | undefined;
    const finish = (status: number, reason?: string) => {
      if (finished) return;
      finished = true;
      clearTimeout(deadline);
      socket.destroy();
      upstream.destroy();
      this.#complete(a, effective, { status, bytesIn, bytesOut, reason });
    };
    /** Gatehouse's own answer while nothing of the upstream's was relayed; a cut connection after. */
    const fail = (failure: { status: number; code: ProxyErrorCode; message: string }, relayedStatus = failure.status) => {
      if (finished) return;
      if (!headSent) answerSocket(socket, { ...failure, outcome: effective.outcome, requestId: a.requestId });
      finish(headSent ? relayedStatus : failure.status, failure.message);
    };
    const connectTimedOut = () => fail({ status: 504, code: "upstream_timeout", message: "the upstream did not accept the connection in time" });
    upstream.once("timeout", connectTimedOut);
    const connected = () => {
      upstream.setTimeout(0);
      upstream.off("timeout", connectTimedOut);
      // Absolute, from the request: an upstream that trickles its answer byte by byte does not
      // hold the sandbox for longer than this (a socket timeout would restart on every byte).
      deadline = setTimeout(() => fail({ status: 504, code: "upstream_timeout", message: `the upstream did not answer the upgrade within ${formatDuration(timeouts.responseHeaders)}` }), timeouts.responseHeaders);
    };
    // A plain tunnel through the parent is connected already.
    if (viaParent && target.scheme !== "https") connected();
    else upstream.once(target.scheme === "https" ? "secureConnect" : "connect", connected);
    socket.once("error", () => finish(499));
    const outgoing = http.request({ method: "GET", path: target.path + target.search, headers, setHost: false, createConnection: () => upstream });
    outgoing.on("error", (err: NodeJS.ErrnoException) => fail(upstreamFailure(err)));
    outgoing.on("upgrade", (res: http.IncomingMessage, _up: Duplex, upstreamHead: Buffer) => {
      clearTimeout(deadline);
      upstream.on("error", () => finish(101));
      if (!switchedToWebSocket(res, String(req.headers["sec-websocket-key"]))) {
        return fail({ status: 502, code: "upstream_invalid_response", message: "the upstream answered 101 without a valid WebSocket handshake (Upgrade: websocket and the Sec-WebSocket-Accept for this key)" });
      }
      headSent = true;
      socket.write(formatHead(101, { ...downstreamResponseHeaders(res.headers), Upgrade: "websocket", Connection: "Upgrade", ...ours }));
      // Bytes the sandbox sent after its request go upstream only now that the protocol switched.
      if (upstreamHead.length) socket.write(upstreamHead);
      if (head.length) upstream.write(head);
      bytesIn += upstreamHead.length;
      bytesOut += head.length;
      upstream.on("data", (c: Buffer) => (bytesIn += c.length));
      socket.on("data", (c: Buffer) => (bytesOut += c.length));
      upstream.pipe(socket);
      socket.pipe(upstream);
      webSocketOpened();
      socket.once("close", webSocketClosed);
      closeWhenIdle(socket, timeouts.tunnelIdle, (why) => finish(101, why));
      upstream.once("close", () => finish(101));
      socket.once("close", () => finish(101));
    });
    outgoing.on("response", (res: http.IncomingMessage) => {
      // Not switched: an ordinary answer, relayed as one, and the connection ends with it, so
      // nothing the sandbox sends next reaches this upstream without a decision of its own.
      clearTimeout(deadline);
      const status = res.statusCode ?? 502;
      const reason = `the upstream answered ${status} instead of switching protocols; relayed as a response and the connection closed`;
      headSent = true;
      socket.write(formatHead(status, { ...downstreamResponseHeaders(res.headers), Connection: "close", ...ours }));
      res.on("data", (c: Buffer) => (bytesIn += c.length));
      res.pipe(socket);
      upstream.setTimeout(timeouts.idle, () => fail({ status: 504, code: "upstream_timeout", message: `the upstream went quiet for ${formatDuration(timeouts.idle)} in the middle of its answer` }, status));
      res.once("aborted", () => finish(status, "the upstream closed in the middle of its answer"));
      socket.once("finish", () => finish(status, reason));
      socket.once("close", () => finish(status, reason));
    });
    outgoing.end();
  }

  #onClientError(err: NodeJS.ErrnoException, socket: Duplex): void {
    if (!socket.writable) {
      socket.destroy();
      return;
    }
    const code = err.code ?? "";
    // A response already under way cannot be followed by an answer of our own.
    const inFlight = (socket as { _httpMessage?: http.ServerResponse })._httpMessage;
    if (code === "ECONNRESET" || inFlight?.headersSent) {
      socket.destroy();
      return;
    }
    const requestId = newRequestId();
    let refusal: ProxyAnswer;
    if (code === "HPE_HEADER_OVERFLOW") refusal = { status: 431, code: "headers_too_large", message: `request headers exceed ${LIMITS.maxHeaderBytes} bytes`, outcome: "blocked", requestId };
    else if (code === "ERR_HTTP_REQUEST_TIMEOUT") {
      const t = this.#d.env.proxyTimeouts;
      refusal = { status: 408, code: "request_timeout", message: `the request did not arrive in time (headers within ${formatDuration(t.requestHeaders)}, the whole request within ${formatDuration(t.request)})`, outcome: "blocked", requestId };
    }
    // Smuggling shapes (Content-Length with Transfer-Encoding, bad chunking) land here.
    else refusal = { status: 400, code: "bad_request", message: `malformed request (${code.replace(/^HPE_/, "").toLowerCase() || "parse error"})`, outcome: "blocked", requestId };
    // Inside a tunnel the session is known, though the request could not be read.
    const tunnel = this.#tunnels.get(socket as net.Socket);
    answerSocket(socket, tunnel ? this.#refuse(tunnel.session, { method: null, scheme: "https", host: tunnel.host, port: tunnel.port, path: null }, refusal) : refusal);
  }

  // ── The pipeline ─────────────────────────────────────────────────────────────────────────

  #authFailure(requestId: string, reason: "missing" | "unknown" | "revoked" | "expired" | "idle"): ProxyAnswer {
    const messages = {
      missing: "a Gatehouse session token is required (Proxy-Authorization: Basic with the token as password, or Bearer)",
      unknown: "the session token is not valid",
      revoked: "this session was revoked; ask the orchestrator for a new one",
      expired: "this session reached its maximum lifetime; ask the orchestrator for a new one",
      idle: "this session expired after its idle timeout; ask the orchestrator for a new one",
    } as const;
    const code: ProxyErrorCode = reason === "revoked" ? "session_revoked" : reason === "expired" || reason === "idle" ? "session_expired" : "proxy_auth_required";
    return { status: 407, code, message: messages[reason], outcome: "blocked", requestId };
  }

  /** Queues a request to be admitted at the end of this turn of the event loop (#admitArrivals). */
  #arrive(req: http.IncomingMessage, res: http.ServerResponse, entry: Entry, target: Target, requestId: string, token: string | null): void {
    markArrival(req);
    this.#arrivals.push({ req, res, entry, target, requestId, token });
    if (this.#arrivals.length === 1) setImmediate(this.#admitArrivals);
  }

  /**
   * Admits the requests that arrived in one turn of the event loop together: one read of the
   * policy and session revisions, taken after every one of them arrived (so whatever was
   * committed before a request arrived applies to it), and one journal write for all their
   * records before any of them goes upstream.
   */
  readonly #admitArrivals = (): void => {
    const arrivals = this.#arrivals;
    this.#arrivals = [];
    let revisions: Revisions;
    try {
      revisions = this.#revisions();
    } catch (err) {
      for (const x of arrivals) {
        x.req.resume();
        answer(x.res, policyUnavailable(x.requestId, err));
      }
      return;
    }
    const ready: Outgoing[] = [];
    for (const x of arrivals) {
      try {
        this.#admit(x, revisions, ready);
      } catch (err) {
        // What #admit reads (sessions, the compiled policy) comes from the database.
        x.req.resume();
        answer(x.res, policyUnavailable(x.requestId, err));
      }
    }
    if (ready.length === 0) return;
    const now = this.#d.now();
    let records: JournalRequest[];
    try {
      records = this.#d.audit.recordAll(ready.map((o) => egressEvent(o.attempt, o.decision, { status: null, now })));
    } catch (err) {
      journalFailed(err);
      for (const o of ready) {
        o.req.resume();
        answer(o.res, auditUnavailable(o.attempt.requestId));
      }
      return;
    }
    for (let i = 0; i < ready.length; i++) {
      const o = ready[i]!;
      o.attempt.journaled = records[i];
      try {
        this.#send(o);
      } catch {
        failed(o.res, o.attempt.requestId);
      }
    }
  };

  /** Checks and decides; what may go out is added to `ready`, everything else is answered here. */
  #admit(x: Arrival, revisions: Revisions, ready: Outgoing[]): void {
    const { req, res, requestId, token, target } = x;
    const check = token ? this.#d.sessions.verify(token, this.#d.now(), revisions.sessions) : null;
    if (!token || !check || !check.ok) {
      req.resume();
      return answer(res, this.#authFailure(requestId, check && !check.ok ? check.reason : "missing"));
    }
    if (req.rawHeaders.length / 2 > LIMITS.maxHeaderCount) {
      req.resume();
      return answer(res, this.#refuse(check.session, refusedAt(req, target), { status: 431, code: "headers_too_large", message: `more than ${LIMITS.maxHeaderCount} request headers`, outcome: "blocked", requestId }));
    }
    if (countHeader(req.rawHeaders, "content-length") > 1) {
      req.resume();
      return answer(res, this.#refuse(check.session, refusedAt(req, target), { status: 400, code: "bad_request", message: "duplicate Content-Length", outcome: "blocked", requestId }));
    }
    if (x.entry !== "intercept" && !this.#track(check.session.id, req.socket)) {
      req.resume();
      return answer(res, this.#refuse(check.session, refusedAt(req, target), tooManyConnections(requestId)));
    }
    const a: Attempt = { requestId, started: this.#d.now(), session: check.session, token, method: (req.method ?? "GET").toUpperCase(), target, policyRevision: revisions.policy };
    const href = `${target.scheme}://${hostHeader(target.host, target.port, target.scheme)}${target.path}${target.search}`;
    const leak = tokenInRequest(token, href, req.rawHeaders);
    if (leak) {
      req.resume();
      return answer(res, this.#refuse(check.session, refusedAt(req, target), { status: 403, code: "token_in_request", message: `the request carries the session token ${leak}; it would leak upstream`, outcome: "blocked", requestId }));
    }
    const decision = this.#d.policy.current(revisions.policy).decide(check.session.workspace, check.session.channel, {
      method: a.method,
      scheme: target.scheme,
      host: target.host,
      port: target.port,
      path: target.path,
      methodOverride: hasMethodOverride(req.headers),
    });
    if (decision.outcome === "blocked") {
      req.resume();
      this.#audit(a, decision, { status: 403 });
      return answer(res, { status: 403, code: decision.code ?? "host_not_allowed", message: decision.reason, outcome: "blocked", requestId, host: target.host });
    }
    // A host checked moments ago is answered from the resolver's cache; otherwise this request
    // waits for DNS and goes out on its own.
    const resolved = this.#d.resolver.resolveCached(target.host);
    if (resolved) return void ready.push(this.#prepare(req, res, a, decision));
    void this.#resolveThenSend(req, res, a, decision).catch(() => failed(res, requestId));
  }

  async #resolveThenSend(req: http.IncomingMessage, res: http.ServerResponse, a: Attempt, decision: Decision): Promise<void> {
    const resolved = await this.#d.resolver.resolve(a.target.host);
    if (!resolved.ok) {
      req.resume();
      const status = resolved.code === "private_address" ? 403 : 502;
      const outcome = resolved.code === "private_address" ? "blocked" : decision.outcome;
      this.#audit(a, { ...decision, outcome, reason: resolved.message, rule: resolved.code === "private_address" ? "ssrf:private_address" : decision.rule }, { status });
      return answer(res, { status, code: resolved.code, message: resolved.message, outcome, requestId: a.requestId, host: a.target.host });
    }
    const o = this.#prepare(req, res, a, decision);
    // Durable before the first byte goes upstream.
    if (!this.#audit(a, o.decision, {})) {
      req.resume();
      return answer(res, auditUnavailable(a.requestId));
    }
    this.#send(o);
  }

  /** The upstream request as it will go out: end-to-end headers, the canonical Host, the credential. */
  #prepare(req: http.IncomingMessage, res: http.ServerResponse, a: Attempt, decision: Decision): Outgoing {
    const { target } = a;
    const headers = upstreamRequestHeaders(req.headers, a.token);
    headers.host = hostHeader(target.host, target.port, target.scheme);
    let secret: Secret | null = null;
    let effective = decision;
    if (decision.outcome === "credentialed" && decision.connection) {
      secret = this.#openCredential(decision.connection.identity, a.policyRevision);
      if (!secret) effective = { ...decision, outcome: "allowlisted", reason: `${decision.connection.identity} has no credential any more; the request goes out without one`, connection: undefined };
    }
    if (secret && effective.connection) applyCredential(headers, effective.connection.inject, secret);
    // Every answer from an Allowed website is scanned for its connections' secrets, attached or not.
    const needles = redactionNeedles(decision.alsoRedact ?? [], secret && effective.connection ? { identity: effective.connection.identity, secret } : null, (id) => this.#openCredential(id, a.policyRevision));
    if (needles.length) {
      // Reflections must be findable: ask for an uncompressed body, and a whole one (a byte
      // range of a reflection could carry the secret out piece by piece, each too short to know).
      headers["accept-encoding"] = "identity";
      delete headers.range;
      delete headers["if-range"];
    }
    const hasBody = req.headers["content-length"] !== undefined ? req.headers["content-length"] !== "0" : req.headers["transfer-encoding"] !== undefined;
    if (hasBody && req.headers["content-length"] === undefined) delete headers["content-length"];
    return {
      req,
      res,
      attempt: a,
      decision: effective,
      headers,
      hasBody,
      needles,
      credential: secret && effective.connection ? effective.connection.identity : null,
      path: (secret && effective.connection ? decidedPath(target.path) : target.path) + target.search,
    };
  }

  #send(o: Outgoing): void {
    const { req, attempt: a } = o;
    const { target } = a;
    const context: RelayContext = { attempt: a, decision: o.decision, credential: o.credential, again: null };
    const relay = new Relay<RelayContext>(o.res, { requestId: a.requestId, outcome: o.decision.outcome, needles: o.needles, context, onSettled: this.#relaySettled, onStaleConnection: this.#sendAgain });
    const request: Dispatcher.DispatchOptions = {
      origin: `${target.scheme}://${hostHeader(target.host, target.port, target.scheme)}`,
      path: o.path,
      method: a.method as Dispatcher.HttpMethod,
      headers: o.headers,
      body: o.hasBody ? Readable.from(countedBody(req, relay), { objectMode: false }) : null,
    };
    // Safe to send twice: no body, and a method that changes nothing.
    if (!o.hasBody && SAFE_METHODS.has(a.method)) context.again = request;
    observeOverhead(req);
    this.#agent.dispatch(request, relay);
  }

  /** Sends a safe request once more when its kept-alive connection turned out to be closed. */
  readonly #sendAgain = (relay: Relay<RelayContext>): boolean => {
    const request = relay.context.again;
    if (!request) return false;
    relay.context.again = null;
    this.#agent.dispatch(request, relay);
    return true;
  };

  /** Every relay reports here (one function for all of them) when its exchange is over. */
  readonly #relaySettled = (relay: Relay<RelayContext>): void => {
    const { attempt, decision, credential } = relay.context;
    if (credential && relay.responded) this.#touchCredential(credential);
    if (credential && decision.connection) countCredentialDenial(decision.bundle ?? "", decision.connection.name, relay.status);
    this.#complete(attempt, decision, { status: relay.status, bytesIn: relay.bytesIn, bytesOut: relay.bytesOut, reason: relay.failure });
  };

  /** Last use, for the Overview: at most once a minute per credential per process. */
  #touchCredential(identity: string): void {
    const now = this.#d.now();
    if (now - (this.#credentialTouched.get(identity) ?? 0) < 60_000) return;
    this.#credentialTouched.set(identity, now);
    this.#d.audit.recordTouch({ touch: "credential", key: identity, at: now });
  }

  /**
   * Decrypts a connection's credential for this one request. The sealed form is kept per policy
   * revision (every credential change bumps it), so no database read is needed on each request.
   */
  #openCredential(identity: string, policyRevision: number | undefined): Secret | null {
    if (policyRevision === undefined || policyRevision !== this.#sealedRevision) {
      this.#sealed.clear();
      this.#sealedRevision = policyRevision;
    }
    let sealed = this.#sealed.get(identity);
    if (sealed === undefined) this.#sealed.set(identity, (sealed = (this.#sealedCredential.get(identity) as string | undefined) ?? null));
    if (!sealed) return null;
    try {
      return this.#d.vault.open(sealed, identity);
    } catch {
      // Another process may have rotated the master key.
      if (!followKeyRotation(this.#d.db, this.#d.vault, this.#d.env)) return null;
      try {
        return this.#d.vault.open(sealed, identity);
      } catch {
        return null;
      }
    }
  }

  // ── Transports for CONNECT ───────────────────────────────────────────────────────────────

  async #intercept(socket: net.Socket, tunnel: Tunnel, requestId: string): Promise<void> {
    let secureContext: tls.SecureContext;
    try {
      secureContext = await this.#d.issuer.contextFor(tunnel.host);
    } catch (err) {
      log.error({ requestId }, `issuing a certificate for ${tunnel.host} failed: ${(err as Error).message}`);
      return answerSocket(socket, { status: 502, code: "upstream_unreachable", message: "could not issue a certificate for this host", outcome: "blocked", requestId });
    }
    socket.write("HTTP/1.1 200 Connection Established\r\n\r\n");
    const tlsSocket = new tls.TLSSocket(socket, {
      isServer: true,
      secureContext,
      ALPNProtocols: ["http/1.1"],
      SNICallback: (servername, cb) => {
        if (servername.toLowerCase().replace(/\.$/, "") === tunnel.host) return cb(null, secureContext);
        this.#refuse(tunnel.session, { method: "CONNECT", scheme: "https", host: tunnel.host, port: tunnel.port, path: null }, { status: 403, code: "sni_mismatch", message: `TLS SNI ${servername} differs from the CONNECT target ${tunnel.host}`, outcome: "blocked", requestId });
        cb(new Error("SNI differs from the CONNECT target"));
      },
    });
    tlsSocket.on("error", () => tlsSocket.destroy());
    tunnelOpened("intercepted");
    socket.once("close", () => tunnelClosed("intercepted"));
    this.#tunnels.set(tlsSocket, tunnel);
    this.#track(tunnel.session.id, tlsSocket, "companion");
    // As on the forward listener: a tunnel with no request in time (no handshake, or nothing
    // after it) is closed. The TLS socket holds the handle: closing the outer one alone would not do.
    closeIfSilent(socket, this.#d.env.proxyTimeouts.requestHeaders, () => !tunnel.spoke, [tlsSocket, socket]);
    this.#inner.emit("connection", tlsSocket);
    // The inner server never listens, so Node keeps none of its request deadlines for it.
    tunnel.deadlines = new RequestDeadlines(tlsSocket, this.#d.env.proxyTimeouts, () => this.#onClientError(Object.assign(new Error("request timeout"), { code: "ERR_HTTP_REQUEST_TIMEOUT" }), tlsSocket));
  }

  async #blindTunnel(socket: net.Socket, tunnel: Tunnel, decision: Decision, requestId: string): Promise<void> {
    const attempt: Attempt = { requestId, started: this.#d.now(), session: tunnel.session, token: tunnel.token, method: "CONNECT", target: { scheme: "https", host: tunnel.host, port: tunnel.port, path: "", search: "" } };
    const resolved = await this.#d.resolver.resolve(tunnel.host);
    if (!resolved.ok) {
      const status = resolved.code === "private_address" ? 403 : 502;
      const outcome = status === 403 ? "blocked" : decision.outcome;
      this.#audit(attempt, { ...decision, outcome, reason: resolved.message, rule: status === 403 ? "ssrf:private_address" : decision.rule }, { status });
      return answerSocket(socket, { status, code: resolved.code, message: resolved.message, outcome, requestId, host: tunnel.host });
    }
    // Dialled before the 200: a host that cannot be reached is answered (and recorded) as the
    // failure it is, not as an open tunnel that closes at once. No byte goes up before the
    // ClientHello is checked and the tunnel recorded.
    const viaParent = resolved.address.viaParent ? await this.#d.parent!.tunnel(tunnel.host, tunnel.port, this.#d.env.proxyTimeouts.connect).catch((err: NodeJS.ErrnoException) => err) : null;
    const upstream = viaParent instanceof net.Socket ? viaParent : net.connect({ host: resolved.address.address, port: tunnel.port, timeout: this.#d.env.proxyTimeouts.connect });
    if (viaParent instanceof Error) upstream.destroy(viaParent);
    this.#track(tunnel.session.id, upstream, "companion");
    const dialFailure = await new Promise<{ status: number; code: ProxyErrorCode; message: string } | null>((resolve) => {
      if (viaParent instanceof net.Socket) resolve(null);
      if (viaParent instanceof Error) resolve(upstreamFailure(viaParent));
      upstream.once("connect", () => resolve(null));
      upstream.once("timeout", () => resolve({ status: 504, code: "upstream_timeout", message: `the upstream did not accept the connection within ${formatDuration(this.#d.env.proxyTimeouts.connect)}` }));
      upstream.once("error", (err: NodeJS.ErrnoException) => resolve(upstreamFailure(err)));
    });
    upstream.on("error", () => upstream.destroy());
    if (dialFailure) {
      upstream.destroy();
      this.#audit(attempt, { ...decision, reason: dialFailure.message }, { status: dialFailure.status });
      return answerSocket(socket, { ...dialFailure, outcome: decision.outcome, requestId, host: tunnel.host });
    }
    upstream.setTimeout(0);
    if (socket.destroyed) return void upstream.destroy();
    socket.write("HTTP/1.1 200 Connection Established\r\nX-Gatehouse-Outcome: allowlisted\r\nX-Gatehouse-Request-Id: " + requestId + "\r\n\r\n");
    // The ClientHello's SNI must name the CONNECT target before a byte goes upstream.
    const hello = await readClientHello(socket, this.#d.env.proxyTimeouts.clientHello);
    if ("error" in hello || (hello.sni !== null && hello.sni !== tunnel.host)) {
      const message = "error" in hello ? `not a TLS ClientHello (${hello.error})` : `TLS SNI ${hello.sni} differs from the CONNECT target ${tunnel.host}`;
      this.#audit(attempt, { ...decision, outcome: "blocked", rule: "tunnel:sni", reason: message }, { status: 403 });
      upstream.destroy();
      return void socket.destroy();
    }
    // The 200 is already out; with no record, the tunnel just closes.
    if (!this.#audit(attempt, decision, {})) {
      upstream.destroy();
      return void socket.destroy();
    }
    let bytesIn = 0;
    let bytesOut = hello.bytes.length;
    let reason: string | undefined;
    const done = () => {
      socket.destroy();
      upstream.destroy();
    };
    upstream.write(hello.bytes);
    tunnelOpened("blind");
    socket.once("close", () => tunnelClosed("blind"));
    socket.on("data", (c: Buffer) => (bytesOut += c.length));
    upstream.on("data", (c: Buffer) => (bytesIn += c.length));
    socket.pipe(upstream);
    upstream.pipe(socket);
    closeWhenIdle(socket, this.#d.env.proxyTimeouts.tunnelIdle, (why) => {
      reason = why;
      done();
    });
    upstream.on("error", done);
    socket.on("error", done);
    let completed = false;
    const complete = () => {
      if (completed) return;
      completed = true;
      this.#complete(attempt, decision, { status: 200, bytesIn, bytesOut, reason });
    };
    upstream.on("close", () => {
      done();
      complete();
    });
    socket.on("close", () => {
      done();
      complete();
    });
  }

  // ── Bookkeeping ─────────────────────────────────────────────────────────────────────────

  /**
   * Remembers a socket of a session, so revoking the session closes it. A sandbox's connection
   * counts against the session's limit (false: the limit is reached); a `companion` (the
   * upstream side of a tunnel, the TLS layer of an intercepted one) is closed with it but not counted.
   */
  #track(sessionId: string, socket: Duplex, kind: "connection" | "companion" = "connection"): boolean {
    let tracked = this.#socketsBySession.get(sessionId);
    if (!tracked) this.#socketsBySession.set(sessionId, (tracked = { all: new Set(), connections: 0 }));
    if (tracked.all.has(socket)) return true;
    const counted = kind === "connection";
    if (counted && tracked.connections >= LIMITS.connectionsPerSession) return false;
    tracked.all.add(socket);
    if (counted) {
      tracked.connections++;
      this.#releaseOnAuthentication.get(socket)?.();
    }
    const session = tracked;
    socket.once("close", () => {
      session.all.delete(socket);
      if (counted) session.connections--;
      if (session.all.size === 0 && this.#socketsBySession.get(sessionId) === session) this.#socketsBySession.delete(sessionId);
    });
    return true;
  }

  /**
   * Until a connection presents a valid session it counts against its peer address: a peer that
   * opens connections and never authenticates runs out of them, not the process of descriptors.
   */
  #admitConnection(socket: net.Socket): boolean {
    const peer = socket.remoteAddress ?? "";
    const open = this.#unauthenticated.get(peer) ?? 0;
    const limit = this.#d.env.proxyLimits.unauthenticatedPerPeer;
    if (open >= limit) {
      socket.on("error", () => socket.destroy());
      answerSocket(socket, { status: 429, code: "too_many_connections", message: `${limit} connections from this address are already open without a valid session token; authenticate or close some`, outcome: "blocked", requestId: newRequestId() });
      return false;
    }
    this.#unauthenticated.set(peer, open + 1);
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      const left = (this.#unauthenticated.get(peer) ?? 1) - 1;
      if (left > 0) this.#unauthenticated.set(peer, left);
      else this.#unauthenticated.delete(peer);
    };
    this.#releaseOnAuthentication.set(socket, release);
    socket.once("close", release);
    return true;
  }

  #closeRevokedSessions(): void {
    if (this.#socketsBySession.size === 0) {
      this.#lastRevocationCheck = this.#d.now();
      return;
    }
    const since = this.#lastRevocationCheck - 1000;
    const checkedAt = this.#d.now();
    let revoked: Iterable<string>;
    try {
      revoked = this.#d.sessions.revokedSince(since);
    } catch {
      return; // the database could not be read: the next tick looks again from the same point
    }
    this.#lastRevocationCheck = checkedAt;
    for (const id of revoked) {
      const sockets = this.#socketsBySession.get(id);
      if (!sockets) continue;
      for (const s of sockets.all) s.destroy();
      this.#socketsBySession.delete(id);
    }
  }

  /**
   * Durable when it returns true (see lib/audit/journal.ts). False means the record could not be
   * written: an allowed request must then not go out (the caller answers 503); a refusal stays a
   * refusal.
   */
  #audit(a: Attempt, decision: Decision, result: { status?: number }): boolean {
    try {
      a.journaled = this.#d.audit.record(egressEvent(a, decision, { status: result.status ?? null, now: this.#d.now() }));
      countEgress(decision.outcome, decision.bundle, decision.connection?.name);
      return true;
    } catch (err) {
      journalFailed(err);
      return false;
    }
  }

  /** Only ever after #audit recorded the request (`a.journaled`): nothing goes out unrecorded. */
  #complete(a: Attempt, decision: Decision, result: { status: number; bytesIn: number; bytesOut: number; reason?: string }): void {
    const now = this.#d.now();
    this.#d.audit.recordCompletion(a.journaled!, { ts: now, status: result.status, bytesIn: result.bytesIn, bytesOut: result.bytesOut, durationMs: now - a.started, reason: result.reason ?? decision.reason });
  }

  /**
   * A refusal found before a decision, or instead of one (bad target, SNI or Host mismatch,
   * smuggling shapes, limits): recorded whenever the session is known, so that every refusal of
   * a known session is an event. Returns the answer, for the caller to send.
   */
  #refuse(session: VerifiedSession | null, about: Refused, a: ProxyAnswer): ProxyAnswer {
    if (!session) return a;
    try {
      this.#d.audit.recordLater({
        kind: "egress",
        action: "egress.request",
        requestId: a.requestId,
        sessionId: session.id,
        workspace: session.workspace,
        channel: session.channel,
        thread: session.thread,
        member: session.memberId,
        ...about,
        outcome: "blocked",
        rule: `transport:${a.code}`,
        // What the sandbox sent can be quoted here: bounded.
        reason: a.message.length > 500 ? `${a.message.slice(0, 500)}…` : a.message,
        status: a.status,
      });
      countEgress("blocked", undefined, undefined);
    } catch (err) {
      journalFailed(err);
    }
    return a;
  }

  /** The session behind a token, to record a refusal under; null when there is none. */
  #knownSession(token: string | null): VerifiedSession | null {
    if (!token) return null;
    try {
      const check = this.#d.sessions.verify(token, this.#d.now(), this.#revisions().sessions);
      return check.ok ? check.session : null;
    } catch {
      return null;
    }
  }

}

/** The record of a request as decided; its completion adds status, bytes and duration. */
function egressEvent(
  a: Attempt,
  decision: Decision,
  opts: { status: number | null; now: number },
) {
  const conn = decision.connection ?? decision.nearMiss;
  return {
    kind: "egress" as const,
    action: "egress.request" as const,
    ts: opts.now,
    requestId: a.requestId,
    sessionId: a.session.id,
    workspace: a.session.workspace,
    channel: a.session.channel,
    thread: a.session.thread,
    member: a.session.memberId,
    bundle: decision.bundle ?? null,
    connection: decision.connection?.name ?? null,
    serviceAccount: decision.connection?.serviceAccount ?? null,
    method: a.method,
    scheme: a.target.scheme,
    host: a.target.host,
    port: a.target.port,
    path: a.target.path || null,
    outcome: decision.outcome,
    rule: decision.rule,
    reason: decision.reason,
    status: opts.status,
    detail: conn && !decision.connection ? { nearMiss: conn.identity } : null,
  };
}

/**
 * The request body as undici reads it, counted on the way. A 'data' listener of our own would
 * set the stream flowing before undici is listening (it may first wait a turn to check a reused
 * connection), and the chunks that arrived with the headers would never go upstream.
 */
async function* countedBody(req: http.IncomingMessage, relay: Relay<RelayContext>): AsyncGenerator<Buffer> {
  // A body that carries the session token is cut off before the token leaves (TokenInBody).
  const scan = new TokenBodyScan(relay.context.attempt.token);
  for await (const chunk of req) {
    relay.bytesOut += (chunk as Buffer).length;
    yield scan.push(chunk as Buffer);
  }
  const tail = scan.end();
  if (tail.length) yield tail;
}

function internalError(res: http.ServerResponse, err: unknown): void {
  const requestId = newRequestId();
  log.error({ requestId }, `a request failed inside Gatehouse (${errorCode(err)})`);
  answer(res, { status: 500, code: "internal_error", message: "Gatehouse failed to handle this request; nothing went upstream", outcome: "blocked", requestId });
}

/** After `ms`, closes `sockets` if `silent()` still holds; nothing is kept once `socket` closes. */
function closeIfSilent(socket: net.Socket, ms: number, silent: () => boolean, sockets: Duplex[]): void {
  const timer = setTimeout(() => {
    if (silent()) for (const s of sockets) s.destroy();
  }, ms);
  timer.unref();
  socket.once("close", () => clearTimeout(timer));
}

/**
 * Closes a relayed connection (blind tunnel, WebSocket) once no byte has moved either way for
 * `ms`: the socket's timer restarts on every read and on every write the other side pipes in.
 */
function closeWhenIdle(socket: net.Socket, ms: number, close: (reason: string) => void): void {
  socket.setTimeout(ms);
  socket.once("timeout", () => close(`closed after ${formatDuration(ms)} without traffic in either direction`));
}

function formatDuration(ms: number): string {
  return ms % 60_000 === 0 ? `${ms / 60_000} min` : ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}

const errorCode = (err: unknown) => (err as NodeJS.ErrnoException).code ?? (err as Error).message;
let policyFailureLoggedAt = 0;

/** The policy or sessions could not be read: the request does not go out, the process goes on. */
function policyUnavailable(requestId: string, err: unknown): ProxyAnswer {
  // Once per 10 s: while the database is gone, every request would say the same.
  if (Date.now() - policyFailureLoggedAt > 10_000) {
    policyFailureLoggedAt = Date.now();
    log.error({ requestId }, `the policy could not be read (${errorCode(err)}); refusing requests until it can`);
  }
  return { status: 503, code: "policy_unavailable", message: "Gatehouse cannot read its policy right now, so the request does not go out; try again shortly", outcome: "blocked", requestId };
}

/** A tunnel or upgrade that failed inside Gatehouse after it was accepted. */
function dropped(socket: Duplex, err: unknown): void {
  log.error(`a tunnel failed (${errorCode(err)})`);
  socket.destroy();
}

function journalFailed(err: unknown): void {
  log.error(`the egress journal could not be written (${errorCode(err)}); refusing requests until it can`);
}

/** A request that failed inside Gatehouse rather than upstream. */
function failed(res: http.ServerResponse, requestId: string): void {
  if (!res.headersSent) answer(res, { status: 502, code: "upstream_unreachable", message: "the request failed", outcome: "blocked", requestId });
  else res.destroy();
}

function tooManyConnections(requestId: string): ProxyAnswer {
  return { status: 429, code: "too_many_connections", message: `this session already has ${LIMITS.connectionsPerSession} open connections`, outcome: "blocked", requestId };
}

function auditUnavailable(requestId: string): ProxyAnswer {
  return { status: 503, code: "audit_unavailable", message: "Gatehouse cannot record this request in its audit log right now, so it does not go out; try again shortly", outcome: "blocked", requestId };
}

function countHeader(rawHeaders: string[], lowerName: string): number {
  let n = 0;
  for (let i = 0; i < rawHeaders.length; i += 2) if (rawHeaders[i]!.length === lowerName.length && rawHeaders[i]!.toLowerCase() === lowerName) n++;
  return n;
}

async function readClientHello(socket: net.Socket, timeoutMs: number): Promise<{ sni: string | null; bytes: Buffer } | { error: string }> {
  return new Promise((resolve) => {
    let buf = Buffer.alloc(0);
    const timer = setTimeout(() => finish({ error: "timed out waiting for the ClientHello" }), timeoutMs);
    const onData = (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      const r = parseClientHello(buf);
      if ("incomplete" in r) {
        if (buf.length > MAX_CLIENT_HELLO_BYTES) finish({ error: "ClientHello too large" });
        return;
      }
      finish("error" in r ? r : { sni: r.sni, bytes: buf });
    };
    const onEnd = () => finish({ error: "the client closed before its ClientHello" });
    function finish(r: { sni: string | null; bytes: Buffer } | { error: string }) {
      clearTimeout(timer);
      socket.off("data", onData);
      socket.off("end", onEnd);
      socket.pause();
      resolve(r);
    }
    socket.on("data", onData);
    socket.once("end", onEnd);
  });
}
