// The proxy core's entry points and wiring. Every way in (absolute-form HTTP, CONNECT, the
// embedded route, WebSocket upgrades) is admitted by one step (admission.ts): canonical target →
// session → decide → resolve → audit; then dispatched. Transports differ; decisions do not.
// Where the rest lives: pipeline.ts (requests, admission to completion), connect.ts (CONNECT,
// blind and intercepted tunnels), websocket.ts (upgrades), egress-audit.ts, session-sockets.ts,
// sealed-credentials.ts, answers.ts (canned answers), core.ts (shared types and limits).
import http from "node:http";
import type net from "node:net";
import type { Duplex } from "node:stream";
import tls from "node:tls";
import { Agent, buildConnector } from "undici";
import { sqliteOf } from "../../db/client";
import { prepareRevisionsRead } from "../../db/queries/settings";
import { changeGuardedRevisions, walIndexFile } from "./revisions";
import { hostHeader, isTargetError, parseAbsoluteTarget } from "../policy";
import { tunnelHostMismatch } from "./admission";
import { internalError } from "./answers";
import { ConnectHandler } from "./connect";
import { LIMITS, newRequestId, sandboxServerOptions, type ProxyCore, type ProxyDeps, type Refused } from "./core";
import { EgressAudit } from "./egress-audit";
import { confineToSandbox } from "./embedded";
import { answerProxyHealth } from "./health";
import { scrapeThroughPrimary } from "../metrics/cluster";
import { answerMetrics } from "../metrics/endpoint";
import { Pipeline } from "./pipeline";
import { answer, answerSocket, type ProxyAnswer, type ProxyErrorCode } from "./respond";
import { SealedCredentials } from "./sealed-credentials";
import { SessionSockets } from "./session-sockets";
import { ExpiringSockets } from "./time-bound";
import { closeIfSilent, formatDuration } from "./socket-timers";
import { sessionToken } from "./token";
import { WebSocketRelay } from "./websocket";

export { LIMITS, sandboxServerOptions, type ProxyDeps } from "./core";

export class EgressProxy {
  readonly #c: ProxyCore;
  /** Serves requests that arrive inside intercepted TLS tunnels. */
  readonly #inner: http.Server;
  readonly #pipeline: Pipeline;
  readonly #connect: ConnectHandler;
  readonly #websocket: WebSocketRelay;
  #unsubscribe: (() => void) | undefined;
  #unsubscribeRevoked: (() => void) | undefined;

  constructor(deps: ProxyDeps) {
    const timeouts = deps.env.proxyTimeouts;
    const upstreamTls = tls.createSecureContext({ ca: deps.upstreamCa });
    const revisions = deps.revisions ?? changeGuardedRevisions(prepareRevisionsRead(deps.db), walIndexFile(sqliteOf(deps.db)));
    this.#c = {
      d: deps,
      upstreamTls,
      agent: new Agent({
        // One parsed trust store for every upstream connection, not one per connection.
        // Through the parent proxy, when there is one, for every host it applies to.
        connect: ((direct) => (deps.parent ? deps.parent.connector(buildConnector(direct), upstreamTls, timeouts.connect) : direct))({
          secureContext: upstreamTls,
          rejectUnauthorized: true,
          lookup: deps.resolver.lookupForDial,
          timeout: timeouts.connect,
        }),
        keepAliveTimeout: 10_000,
        connections: 256,
        headersTimeout: timeouts.responseHeaders,
        bodyTimeout: timeouts.idle,
      }),
      revisions,
      tunnels: new WeakMap(),
      sockets: new SessionSockets(deps),
      audit: new EgressAudit(deps, revisions),
      credentials: deps.credentials ?? new SealedCredentials(deps),
      expiring: new ExpiringSockets(),
    };
    this.#inner = http.createServer(sandboxServerOptions(timeouts), this.#interceptedEntry);
    this.#inner.on("clientError", (err, socket) => this.#onClientError(err, socket));
    this.#pipeline = new Pipeline(this.#c);
    this.#connect = new ConnectHandler(this.#c, this.#inner, (err, socket) => this.#onClientError(err, socket));
    this.#websocket = new WebSocketRelay(this.#c);
  }

  /** Attaches the forward-proxy handlers to a server. */
  attach(server: http.Server): void {
    server.on("request", this.#forwardEntry);
    server.on("connect", this.#connect.onConnect);
    server.on("clientError", (err, socket) => this.#onClientError(err, socket));
    server.on("upgrade", (req, socket: net.Socket, head: Buffer) => this.#websocket.onUpgrade(req, socket, head, null));
    // Node times a request's headers from their first byte: a connection that never sends one
    // would be held for ever.
    server.on("connection", (socket: net.Socket) => {
      if (!this.#c.sockets.admitConnection(socket)) return;
      closeIfSilent(socket, this.#c.d.env.proxyTimeouts.requestHeaders, () => socket.bytesRead === 0, [socket]);
    });
    this.#inner.on("upgrade", (req, socket: net.Socket, head: Buffer) =>
      this.#websocket.onUpgrade(req, socket, head, this.#c.tunnels.get(socket) ?? null),
    );
    this.#c.sockets.watchRevocations();
    // A revocation committed through another replica arrives through the change feed: close now.
    this.#unsubscribe = this.#c.d.changes?.onChange((now, before, reset) => {
      if (reset || !before || now.sessions !== before.sessions) this.#c.sockets.closeRevokedSessions();
    });
    // At each grant's end (by the policy clock), what rested on it closes.
    this.#stopExpiry = this.#c.d.policy.onExpiry((now) => this.#c.expiring.closeExpired(now));
    // On PostgreSQL the revoked sessions are known once the sessions cache has re-read them.
    this.#unsubscribeRevoked = this.#c.d.sessions.onRevoked?.(() => this.#c.sockets.closeRevokedSessions());
  }

  #stopExpiry: (() => void) | null = null;

  async close(): Promise<void> {
    this.#unsubscribe?.();
    this.#stopExpiry?.();
    this.#unsubscribeRevoked?.();
    this.#c.sockets.closeAll();
    this.#inner.close();
    await this.#c.agent.close();
    this.#c.d.audit.close();
  }

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
    const { d, audit } = this.#c;
    if (answerProxyHealth(req, res, d.db, d.env.dataDir, d.revisions)) return;
    if (req.url?.charCodeAt(0) === 0x2f && answerMetrics(req, res, d.env.metricsToken, scrapeThroughPrimary)) return;
    const requestId = newRequestId();
    const token = sessionToken(req.headers["proxy-authorization"]);
    const target = parseAbsoluteTarget(req.url ?? "");
    if (isTargetError(target) || target.scheme !== "http") {
      const about: Refused = {
        method: req.method ?? "GET",
        scheme: "http",
        host: isTargetError(target) ? null : target.host,
        port: isTargetError(target) ? null : target.port,
        path: null,
      };
      let refusal: ProxyAnswer;
      // An origin-form request is not a proxy request at all.
      if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(req.url ?? ""))
        refusal = {
          status: 400,
          code: "bad_request",
          message: "this is a forward proxy: send absolute-form requests (http://host/path) or CONNECT",
          outcome: "blocked",
          requestId,
        };
      else if (isTargetError(target))
        refusal = {
          status: target.error === "userinfo_not_allowed" ? 403 : 400,
          code: target.error,
          message: target.message,
          outcome: "blocked",
          requestId,
        };
      else
        refusal = {
          status: 400,
          code: "unsupported_scheme",
          message: "send https:// requests through CONNECT",
          outcome: "blocked",
          requestId,
        };
      return answer(res, audit.refuse(audit.knownSession(token), about, refusal));
    }
    this.#pipeline.arrive(req, res, "forward", target, requestId, token);
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
    const { audit } = this.#c;
    const requestId = newRequestId();
    confineToSandbox(req, res);
    const m = /^\/proxy\/([^/]+)\/([^/?#]+)(\/[^?#]*)?(\?[^#]*)?$/.exec(req.url ?? "");
    const bad = (message: string, code: ProxyErrorCode = "bad_target") =>
      answer(
        res,
        audit.refuse(
          audit.knownSession(sessionToken(req.headers["proxy-authorization"])),
          { method: req.method ?? "GET", scheme: "https", host: null, port: null, path: null },
          { status: code === "userinfo_not_allowed" ? 403 : 400, code, message, outcome: "blocked", requestId },
        ),
      );
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
    this.#pipeline.arrive(req, res, "embedded", target, requestId, sessionToken(req.headers["proxy-authorization"]));
  }

  /** A request inside an intercepted tunnel: its Host must be the tunnel's target. */
  #onInterceptedRequest(req: http.IncomingMessage, res: http.ServerResponse): void {
    const { audit } = this.#c;
    const requestId = newRequestId();
    const tunnel = this.#c.tunnels.get(req.socket as net.Socket);
    if (!tunnel) return answer(res, { status: 400, code: "bad_request", message: "unknown tunnel", outcome: "blocked", requestId });
    tunnel.spoke = true;
    tunnel.deadlines?.requestStarted(req, res);
    const mismatch = tunnelHostMismatch(this.#c, tunnel, req, requestId);
    if (mismatch) return answer(res, mismatch);
    const url = req.url ?? "/";
    const target = parseAbsoluteTarget(url.startsWith("/") ? `https://${hostHeader(tunnel.host, tunnel.port, "https")}${url}` : url);
    if (isTargetError(target) || target.host !== tunnel.host || target.port !== tunnel.port || target.scheme !== "https") {
      const message = isTargetError(target) ? target.message : "the request target differs from the tunnel's";
      return answer(
        res,
        audit.refuse(
          tunnel.session,
          { method: req.method ?? "GET", scheme: "https", host: tunnel.host, port: tunnel.port, path: null },
          { status: 400, code: "bad_target", message, outcome: "blocked", requestId },
        ),
      );
    }
    // The tunnel's token, re-checked on every request: a revoked session stops mid-connection.
    this.#pipeline.arrive(req, res, "intercept", target, requestId, tunnel.token);
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
    if (code === "HPE_HEADER_OVERFLOW")
      refusal = {
        status: 431,
        code: "headers_too_large",
        message: `request headers exceed ${LIMITS.maxHeaderBytes} bytes`,
        outcome: "blocked",
        requestId,
      };
    else if (code === "ERR_HTTP_REQUEST_TIMEOUT") {
      const t = this.#c.d.env.proxyTimeouts;
      refusal = {
        status: 408,
        code: "request_timeout",
        message: `the request did not arrive in time (headers within ${formatDuration(t.requestHeaders)}, the whole request within ${formatDuration(t.request)})`,
        outcome: "blocked",
        requestId,
      };
    }
    // Smuggling shapes (Content-Length with Transfer-Encoding, bad chunking) land here.
    else
      refusal = {
        status: 400,
        code: "bad_request",
        message: `malformed request (${code.replace(/^HPE_/, "").toLowerCase() || "parse error"})`,
        outcome: "blocked",
        requestId,
      };
    // Inside a tunnel the session is known, though the request could not be read.
    const tunnel = this.#c.tunnels.get(socket as net.Socket);
    answerSocket(
      socket,
      tunnel
        ? this.#c.audit.refuse(tunnel.session, { method: null, scheme: "https", host: tunnel.host, port: tunnel.port, path: null }, refusal)
        : refusal,
    );
  }
}
