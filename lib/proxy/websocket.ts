// WebSocket upgrades, on the forward listener and inside intercepted tunnels: the same target,
// session, decision and audit as any request; the handshake goes upstream through Node's HTTP
// client (upgrade.ts), and only a valid 101 becomes a byte-for-byte pipe. No credential is
// attached, since frames are not scanned for a reflected secret.
import http from "node:http";
import net from "node:net";
import type { Duplex } from "node:stream";
import tls from "node:tls";
import { hostHeader, isTargetError, parseAbsoluteTarget, parseAuthority, type Decision, type Target } from "../policy";
import { auditUnavailable, authFailure, dropped, policyUnavailable, tooManyConnections } from "./answers";
import { LIMITS, newRequestId, type Attempt, type ProxyCore, type Refused, type Tunnel } from "./core";
import { downstreamResponseHeaders, hasMethodOverride, upstreamRequestHeaders } from "./headers";
import { upstreamFailure } from "./relay";
import { answerSocket, type ProxyAnswer, type ProxyErrorCode } from "./respond";
import { closeWhenIdle, formatDuration } from "./socket-timers";
import { sessionToken, tokenInRequest } from "./token";
import { formatHead, isWebSocketKey, switchedToWebSocket } from "./upgrade";
import type { SessionCheck } from "../sessions/verify";

export class WebSocketRelay {
  readonly #c: ProxyCore;

  constructor(core: ProxyCore) {
    this.#c = core;
  }

  onUpgrade(req: http.IncomingMessage, socket: net.Socket, head: Buffer, tunnel: Tunnel | null): void {
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

  #upgrade(
    req: http.IncomingMessage,
    socket: net.Socket,
    head: Buffer,
    tunnel: Tunnel | null,
    requestId: string,
    fetched?: SessionCheck,
  ): void {
    const { d, audit } = this.#c;
    const token = tunnel ? tunnel.token : sessionToken(req.headers["proxy-authorization"]);
    const refuse = (refusal: ProxyAnswer) => {
      const about: Refused = {
        method: req.method ?? "GET",
        scheme: tunnel ? "https" : "http",
        host: tunnel?.host ?? null,
        port: tunnel?.port ?? null,
        path: null,
      };
      answerSocket(socket, audit.refuse(tunnel ? tunnel.session : audit.knownSession(token), about, refusal));
    };
    if (String(req.headers.upgrade ?? "").toLowerCase() !== "websocket") {
      return refuse({
        status: 400,
        code: "bad_request",
        message: `only WebSocket upgrades are relayed, not ${String(req.headers.upgrade ?? "")}`,
        outcome: "blocked",
        requestId,
      });
    }
    // Without the sandbox's key, the upstream's 101 could not be told from a server that ignored the upgrade.
    if (!isWebSocketKey(req.headers["sec-websocket-key"])) {
      return refuse({
        status: 400,
        code: "bad_request",
        message: "a WebSocket upgrade needs a Sec-WebSocket-Key (RFC 6455 section 4.1)",
        outcome: "blocked",
        requestId,
      });
    }
    let target: Target | ReturnType<typeof parseAbsoluteTarget>;
    if (tunnel) {
      const inner = req.headers.host ? parseAuthority(req.headers.host, "https") : null;
      if (!inner || "error" in inner || inner.host !== tunnel.host || inner.port !== tunnel.port) {
        return refuse({
          status: 403,
          code: "host_mismatch",
          message: `the request's Host (${req.headers.host ?? "none"}) differs from the CONNECT target ${tunnel.host}:${tunnel.port}`,
          outcome: "blocked",
          requestId,
        });
      }
      target = parseAbsoluteTarget(`https://${hostHeader(tunnel.host, tunnel.port, "https")}${req.url ?? "/"}`);
    } else {
      target = parseAbsoluteTarget((req.url ?? "").replace(/^ws:/i, "http:"));
    }
    if (isTargetError(target))
      return refuse({
        status: target.error === "userinfo_not_allowed" ? 403 : 400,
        code: target.error,
        message: target.message,
        outcome: "blocked",
        requestId,
      });
    const revisions = this.#c.revisions();
    const check = token ? (fetched ?? d.sessions.verify(token, d.now(), revisions.sessions)) : null;
    if (token && check === undefined) {
      // Replicas: a token this replica does not hold yet is read once, then the upgrade goes on.
      d.sessions.fetch!(token, d.now(), revisions.sessions)
        .then((c) => this.#upgrade(req, socket, head, tunnel, requestId, c))
        .catch((err: unknown) => answerSocket(socket, policyUnavailable(requestId, err)));
      return;
    }
    if (!token || !check || !check.ok) return answerSocket(socket, authFailure(requestId, check && !check.ok ? check.reason : "missing"));
    if (req.rawHeaders.length / 2 > LIMITS.maxHeaderCount)
      return refuse({
        status: 431,
        code: "headers_too_large",
        message: `more than ${LIMITS.maxHeaderCount} request headers`,
        outcome: "blocked",
        requestId,
      });
    // The same check as every other request: an upgrade's URL or headers must not carry the token out.
    const leak = tokenInRequest(
      token,
      `${target.scheme}://${hostHeader(target.host, target.port, target.scheme)}${target.path}${target.search}`,
      req.rawHeaders,
    );
    if (leak)
      return refuse({
        status: 403,
        code: "token_in_request",
        message: `the request carries the session token ${leak}; it would leak upstream`,
        outcome: "blocked",
        requestId,
      });
    if (!this.#c.sockets.track(check.session.id, socket)) return refuse(tooManyConnections(requestId));
    this.#relayUpgrade(req, socket, head, {
      requestId,
      started: d.now(),
      session: check.session,
      token,
      method: "GET",
      target,
      policyRevision: revisions.policy,
    }).catch((err) => dropped(socket, err));
  }

  async #relayUpgrade(req: http.IncomingMessage, socket: net.Socket, head: Buffer, a: Attempt): Promise<void> {
    const { d, audit } = this.#c;
    const { target, session } = a;
    const decision = d.policy
      .current(a.policyRevision)
      .decide(session.workspace, session.channel, {
        method: "GET",
        scheme: target.scheme,
        host: target.host,
        port: target.port,
        path: target.path,
        methodOverride: hasMethodOverride(req.headers),
      });
    if (decision.outcome === "blocked") {
      audit.record(a, decision, { status: 403 });
      return answerSocket(socket, {
        status: 403,
        code: decision.code ?? "host_not_allowed",
        message: decision.reason,
        outcome: "blocked",
        requestId: a.requestId,
        host: target.host,
      });
    }
    const resolved = await d.resolver.resolve(target.host);
    if (!resolved.ok) {
      const status = resolved.code === "private_address" ? 403 : 502;
      audit.record(a, { ...decision, outcome: status === 403 ? "blocked" : decision.outcome, reason: resolved.message }, { status });
      return answerSocket(socket, {
        status,
        code: resolved.code,
        message: resolved.message,
        outcome: status === 403 ? "blocked" : decision.outcome,
        requestId: a.requestId,
        host: target.host,
      });
    }
    const headers = upstreamRequestHeaders(req.headers, a.token, { upgrade: true });
    headers.host = hostHeader(target.host, target.port, target.scheme);
    // Frames cannot be scanned for a reflected secret the way bodies are, so the credential
    // stays home: the upgrade goes out as allowlisted.
    const effective: Decision =
      decision.outcome === "credentialed"
        ? {
            ...decision,
            outcome: "allowlisted",
            connection: undefined,
            nearMiss: decision.connection,
            reason: `${decision.reason.split(";")[0]}; credentials are not attached to WebSocket upgrades, whose frames cannot be scanned for a reflected secret`,
          }
        : decision;
    if (!audit.record(a, effective, {})) return answerSocket(socket, auditUnavailable(a.requestId));
    const timeouts = d.env.proxyTimeouts;
    const connectOpts = { host: resolved.address.address, port: target.port, timeout: timeouts.connect };
    const upstream: net.Socket =
      target.scheme === "https"
        ? tls.connect({ ...connectOpts, servername: target.host, secureContext: this.#c.upstreamTls, rejectUnauthorized: true })
        : net.connect(connectOpts);
    this.#c.sockets.track(session.id, upstream, "companion");
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
      audit.complete(a, effective, { status, bytesIn, bytesOut, reason });
    };
    /** Gatehouse's own answer while nothing of the upstream's was relayed; a cut connection after. */
    const fail = (failure: { status: number; code: ProxyErrorCode; message: string }, relayedStatus = failure.status) => {
      if (finished) return;
      if (!headSent) answerSocket(socket, { ...failure, outcome: effective.outcome, requestId: a.requestId });
      finish(headSent ? relayedStatus : failure.status, failure.message);
    };
    const connectTimedOut = () =>
      fail({ status: 504, code: "upstream_timeout", message: "the upstream did not accept the connection in time" });
    upstream.once("timeout", connectTimedOut);
    upstream.once(target.scheme === "https" ? "secureConnect" : "connect", () => {
      upstream.setTimeout(0);
      upstream.off("timeout", connectTimedOut);
      // Absolute, from the request: an upstream that trickles its answer byte by byte does not
      // hold the sandbox for longer than this (a socket timeout would restart on every byte).
      deadline = setTimeout(
        () =>
          fail({
            status: 504,
            code: "upstream_timeout",
            message: `the upstream did not answer the upgrade within ${formatDuration(timeouts.responseHeaders)}`,
          }),
        timeouts.responseHeaders,
      );
    });
    socket.once("error", () => finish(499));
    const outgoing = http.request({
      method: "GET",
      path: target.path + target.search,
      headers,
      setHost: false,
      createConnection: () => upstream,
    });
    outgoing.on("error", (err: NodeJS.ErrnoException) => fail(upstreamFailure(err)));
    outgoing.on("upgrade", (res: http.IncomingMessage, _up: Duplex, upstreamHead: Buffer) => {
      clearTimeout(deadline);
      upstream.on("error", () => finish(101));
      if (!switchedToWebSocket(res, String(req.headers["sec-websocket-key"]))) {
        return fail({
          status: 502,
          code: "upstream_invalid_response",
          message:
            "the upstream answered 101 without a valid WebSocket handshake (Upgrade: websocket and the Sec-WebSocket-Accept for this key)",
        });
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
      upstream.setTimeout(timeouts.idle, () =>
        fail(
          {
            status: 504,
            code: "upstream_timeout",
            message: `the upstream went quiet for ${formatDuration(timeouts.idle)} in the middle of its answer`,
          },
          status,
        ),
      );
      res.once("aborted", () => finish(status, "the upstream closed in the middle of its answer"));
      socket.once("finish", () => finish(status, reason));
      socket.once("close", () => finish(status, reason));
    });
    outgoing.end();
  }
}
