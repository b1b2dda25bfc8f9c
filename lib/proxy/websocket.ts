// WebSocket upgrades, on the forward listener and inside intercepted tunnels: admitted like any
// request (admission.ts); the handshake goes upstream through Node's HTTP
// client (upgrade.ts), and only a valid 101 becomes a byte-for-byte pipe. No credential is
// attached, since frames are not scanned for a reflected secret.
import http from "node:http";
import net from "node:net";
import type { Duplex } from "node:stream";
import tls from "node:tls";
import { hostHeader, isTargetError, parseAbsoluteTarget, type Decision, type Target } from "../policy";
import { admit, resolveAdmitted, tunnelHostMismatch, sessionToFetch } from "./admission";
import { auditUnavailable, dropped, policyUnavailable } from "./answers";
import { newRequestId, type Attempt, type ProxyCore, type Refused, type Tunnel } from "./core";
import { downstreamResponseHeaders, upstreamRequestHeaders } from "./headers";
import { webSocketClosed, webSocketOpened } from "../metrics";
import { upstreamFailure } from "./relay";
import { answerSocket, type ProxyAnswer, type ProxyErrorCode } from "./respond";
import { closeWhenIdle, formatDuration } from "./socket-timers";
import { sessionToken } from "./token";
import { formatHead, isWebSocketKey, switchedToWebSocket } from "./upgrade";
import type { SessionCheck } from "../sessions/verify";
import { reportOnlyHeader } from "./time-bound";

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
    const { audit } = this.#c;
    const token = tunnel ? tunnel.token : sessionToken(req.headers["proxy-authorization"]);
    const pending = fetched ? null : sessionToFetch(this.#c, token, this.#c.revisions());
    if (pending) {
      pending
        .then((check) => this.#upgrade(req, socket, head, tunnel, requestId, check))
        .catch((err: unknown) => answerSocket(socket, policyUnavailable(requestId, err)));
      return;
    }
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
      const mismatch = tunnelHostMismatch(this.#c, tunnel, req, requestId);
      if (mismatch) return answerSocket(socket, mismatch);
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
    // Inside a tunnel the connection was counted once, at its CONNECT.
    const admitted = admit(
      this.#c,
      { requestId, token, method: "GET", target, rawHeaders: req.rawHeaders, headers: req.headers, connection: tunnel ? null : socket },
      this.#c.revisions(),
      fetched,
    );
    if (!admitted.ok) return answerSocket(socket, admitted.answer);
    this.#relayUpgrade(req, socket, head, admitted.attempt, admitted.decision).catch((err) => dropped(socket, err));
  }

  async #relayUpgrade(req: http.IncomingMessage, socket: net.Socket, head: Buffer, a: Attempt, decision: Decision): Promise<void> {
    const { d, audit } = this.#c;
    const { target, session } = a;
    // Frames cannot be scanned for a reflected secret the way bodies are, so the credential
    // stays home: the upgrade goes out, and is recorded, as allowlisted.
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
    const resolved = await resolveAdmitted(this.#c, a, effective);
    if (!resolved.ok) return answerSocket(socket, resolved.answer);
    const headers = upstreamRequestHeaders(req.headers, a.token, { upgrade: true });
    headers.host = hostHeader(target.host, target.port, target.scheme);
    if (!audit.record(a, effective, {})) return answerSocket(socket, auditUnavailable(a.requestId));
    const timeouts = d.env.proxyTimeouts;
    const connectOpts = { host: resolved.address.address, port: target.port, timeout: timeouts.connect };
    // Through the parent: the tunnel first, then TLS inside it as on a direct connection.
    const viaParent = resolved.address.viaParent
      ? await d.parent!.tunnel(target.host, target.port, timeouts.connect).catch((err: NodeJS.ErrnoException) => err)
      : null;
    if (viaParent instanceof Error) {
      const failure = upstreamFailure(viaParent);
      audit.complete(a, effective, { status: failure.status, bytesIn: 0, bytesOut: 0, reason: failure.message });
      return answerSocket(socket, { ...failure, outcome: effective.outcome, requestId: a.requestId, host: target.host });
    }
    const upstream: net.Socket =
      target.scheme === "https"
        ? tls.connect({
            ...connectOpts,
            ...(viaParent ? { socket: viaParent } : {}),
            servername: target.host,
            secureContext: this.#c.upstreamTls,
            rejectUnauthorized: true,
          })
        : (viaParent?.resume() ?? net.connect(connectOpts));
    this.#c.sockets.track(session.id, upstream, "companion");
    const reportOnly = reportOnlyHeader(decision);
    const ours = {
      "X-Gatehouse-Outcome": effective.outcome,
      "X-Gatehouse-Request-Id": a.requestId,
      ...(reportOnly ? { "X-Gatehouse-Report-Only": reportOnly } : {}),
    };
    // A WebSocket that rests on a time-bound grant (or report-only) closes when it ends.
    this.#c.expiring.track([socket, upstream], decision);
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
    const connected = () => {
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
    };
    // A plain tunnel through the parent is connected already.
    if (viaParent && target.scheme !== "https") connected();
    else upstream.once(target.scheme === "https" ? "secureConnect" : "connect", connected);
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
