// CONNECT: the session and decision for the tunnel, then one of two transports. Hosts where a
// credential may attach are intercepted (TLS terminated with a Gatehouse leaf, requests served
// by the inner server); Domains-only hosts are tunnelled blind after their ClientHello's SNI is
// checked against the target.
import type http from "node:http";
import net from "node:net";
import tls from "node:tls";
import { parseConnectTarget, type Decision } from "../policy";
import { authFailure, dropped, policyUnavailable, tooManyConnections } from "./answers";
import { newRequestId, type Attempt, type ProxyCore, type Tunnel } from "./core";
import { MAX_CLIENT_HELLO_BYTES, parseClientHello } from "./client-hello";
import { upstreamFailure } from "./relay";
import { RequestDeadlines } from "./request-deadlines";
import { answerSocket, type ProxyErrorCode } from "./respond";
import { closeIfSilent, closeWhenIdle, formatDuration } from "./socket-timers";
import { sessionToken } from "./token";
import type { SessionCheck } from "../sessions/verify";

export class ConnectHandler {
  readonly #c: ProxyCore;
  /** Serves requests that arrive inside intercepted TLS tunnels. */
  readonly #inner: http.Server;
  /** Answers what the inner server could not read (here: a request that did not arrive in time). */
  readonly #onClientError: (err: NodeJS.ErrnoException, socket: net.Socket) => void;

  constructor(core: ProxyCore, inner: http.Server, onClientError: (err: NodeJS.ErrnoException, socket: net.Socket) => void) {
    this.#c = core;
    this.#inner = inner;
    this.#onClientError = onClientError;
  }

  readonly onConnect = (req: http.IncomingMessage, socket: net.Socket, head: Buffer): void => {
    const requestId = newRequestId();
    socket.on("error", () => socket.destroy());
    try {
      this.#connect(req, socket, head, requestId);
    } catch (err) {
      answerSocket(socket, policyUnavailable(requestId, err));
    }
  };

  #connect(req: http.IncomingMessage, socket: net.Socket, head: Buffer, requestId: string, fetched?: SessionCheck): void {
    const { d, audit } = this.#c;
    const token = sessionToken(req.headers["proxy-authorization"]);
    const revisions = this.#c.revisions();
    const check = token ? (fetched ?? d.sessions.verify(token, d.now(), revisions.sessions)) : null;
    if (token && check === undefined) {
      // Replicas: a token this replica does not hold yet is read once, then the CONNECT goes on.
      d.sessions.fetch!(token, d.now(), revisions.sessions)
        .then((c) => this.#connect(req, socket, head, requestId, c))
        .catch((err: unknown) => answerSocket(socket, policyUnavailable(requestId, err)));
      return;
    }
    if (!token || !check || !check.ok) return answerSocket(socket, authFailure(requestId, check && !check.ok ? check.reason : "missing"));
    const session = check.session;
    const authority = parseConnectTarget(req.url ?? "");
    if ("error" in authority) {
      return answerSocket(
        socket,
        audit.refuse(
          session,
          { method: "CONNECT", scheme: "https", host: null, port: null, path: null },
          {
            status: authority.error === "userinfo_not_allowed" ? 403 : 400,
            code: authority.error,
            message: authority.message,
            outcome: "blocked",
            requestId,
          },
        ),
      );
    }
    if (!this.#c.sockets.track(session.id, socket))
      return answerSocket(
        socket,
        audit.refuse(
          session,
          { method: "CONNECT", scheme: "https", host: authority.host, port: authority.port, path: null },
          tooManyConnections(requestId),
        ),
      );

    const { host, port } = authority;
    const compiled = d.policy.current(revisions.policy);
    const decision = compiled.decide(session.workspace, session.channel, {
      method: "CONNECT",
      scheme: "https",
      host,
      port,
      path: "/",
      methodOverride: false,
    });
    if (decision.outcome === "blocked") {
      audit.record(
        { requestId, started: d.now(), session, token, method: "CONNECT", target: { scheme: "https", host, port, path: "", search: "" } },
        decision,
        { status: 403 },
      );
      return answerSocket(socket, {
        status: 403,
        code: decision.code ?? "host_not_allowed",
        message: decision.reason,
        outcome: "blocked",
        requestId,
        host,
      });
    }
    if (head.length) socket.unshift(head);
    if (compiled.credentialMayApply(session.workspace, session.channel, host)) {
      this.#intercept(socket, { host, port, token, session, clientSocket: socket }, requestId).catch((err) => dropped(socket, err));
    } else {
      this.#blindTunnel(socket, { host, port, token, session, clientSocket: socket }, decision, requestId).catch((err) =>
        dropped(socket, err),
      );
    }
  }

  async #intercept(socket: net.Socket, tunnel: Tunnel, requestId: string): Promise<void> {
    const { d, audit } = this.#c;
    let secureContext: tls.SecureContext;
    try {
      secureContext = await d.issuer.contextFor(tunnel.host);
    } catch (err) {
      console.error(`gatehouse proxy: issuing a certificate for ${tunnel.host} failed: ${(err as Error).message}`);
      return answerSocket(socket, {
        status: 502,
        code: "upstream_unreachable",
        message: "could not issue a certificate for this host",
        outcome: "blocked",
        requestId,
      });
    }
    socket.write("HTTP/1.1 200 Connection Established\r\n\r\n");
    const tlsSocket = new tls.TLSSocket(socket, {
      isServer: true,
      secureContext,
      ALPNProtocols: ["http/1.1"],
      SNICallback: (servername, cb) => {
        if (servername.toLowerCase().replace(/\.$/, "") === tunnel.host) return cb(null, secureContext);
        audit.refuse(
          tunnel.session,
          { method: "CONNECT", scheme: "https", host: tunnel.host, port: tunnel.port, path: null },
          {
            status: 403,
            code: "sni_mismatch",
            message: `TLS SNI ${servername} differs from the CONNECT target ${tunnel.host}`,
            outcome: "blocked",
            requestId,
          },
        );
        cb(new Error("SNI differs from the CONNECT target"));
      },
    });
    tlsSocket.on("error", () => tlsSocket.destroy());
    this.#c.tunnels.set(tlsSocket, tunnel);
    this.#c.sockets.track(tunnel.session.id, tlsSocket, "companion");
    // As on the forward listener: a tunnel with no request in time (no handshake, or nothing
    // after it) is closed. The TLS socket holds the handle: closing the outer one alone would not do.
    closeIfSilent(socket, d.env.proxyTimeouts.requestHeaders, () => !tunnel.spoke, [tlsSocket, socket]);
    this.#inner.emit("connection", tlsSocket);
    // The inner server never listens, so Node keeps none of its request deadlines for it.
    tunnel.deadlines = new RequestDeadlines(tlsSocket, d.env.proxyTimeouts, () =>
      this.#onClientError(Object.assign(new Error("request timeout"), { code: "ERR_HTTP_REQUEST_TIMEOUT" }), tlsSocket),
    );
  }

  async #blindTunnel(socket: net.Socket, tunnel: Tunnel, decision: Decision, requestId: string): Promise<void> {
    const { d, audit } = this.#c;
    const attempt: Attempt = {
      requestId,
      started: d.now(),
      session: tunnel.session,
      token: tunnel.token,
      method: "CONNECT",
      target: { scheme: "https", host: tunnel.host, port: tunnel.port, path: "", search: "" },
    };
    const resolved = await d.resolver.resolve(tunnel.host);
    if (!resolved.ok) {
      const status = resolved.code === "private_address" ? 403 : 502;
      const outcome = status === 403 ? "blocked" : decision.outcome;
      audit.record(
        attempt,
        { ...decision, outcome, reason: resolved.message, rule: status === 403 ? "ssrf:private_address" : decision.rule },
        { status },
      );
      return answerSocket(socket, { status, code: resolved.code, message: resolved.message, outcome, requestId, host: tunnel.host });
    }
    // Dialled before the 200: a host that cannot be reached is answered (and recorded) as the
    // failure it is, not as an open tunnel that closes at once. No byte goes up before the
    // ClientHello is checked and the tunnel recorded.
    const upstream = net.connect({ host: resolved.address.address, port: tunnel.port, timeout: d.env.proxyTimeouts.connect });
    this.#c.sockets.track(tunnel.session.id, upstream, "companion");
    const dialFailure = await new Promise<{ status: number; code: ProxyErrorCode; message: string } | null>((resolve) => {
      upstream.once("connect", () => resolve(null));
      upstream.once("timeout", () =>
        resolve({
          status: 504,
          code: "upstream_timeout",
          message: `the upstream did not accept the connection within ${formatDuration(d.env.proxyTimeouts.connect)}`,
        }),
      );
      upstream.once("error", (err: NodeJS.ErrnoException) => resolve(upstreamFailure(err)));
    });
    upstream.on("error", () => upstream.destroy());
    if (dialFailure) {
      upstream.destroy();
      audit.record(attempt, { ...decision, reason: dialFailure.message }, { status: dialFailure.status });
      return answerSocket(socket, { ...dialFailure, outcome: decision.outcome, requestId, host: tunnel.host });
    }
    upstream.setTimeout(0);
    if (socket.destroyed) return void upstream.destroy();
    socket.write(
      "HTTP/1.1 200 Connection Established\r\nX-Gatehouse-Outcome: allowlisted\r\nX-Gatehouse-Request-Id: " + requestId + "\r\n\r\n",
    );
    // The ClientHello's SNI must name the CONNECT target before a byte goes upstream.
    const hello = await readClientHello(socket, d.env.proxyTimeouts.clientHello);
    if ("error" in hello || (hello.sni !== null && hello.sni !== tunnel.host)) {
      const message =
        "error" in hello ? `not a TLS ClientHello (${hello.error})` : `TLS SNI ${hello.sni} differs from the CONNECT target ${tunnel.host}`;
      audit.record(attempt, { ...decision, outcome: "blocked", rule: "tunnel:sni", reason: message }, { status: 403 });
      upstream.destroy();
      return void socket.destroy();
    }
    // The 200 is already out; with no record, the tunnel just closes.
    if (!audit.record(attempt, decision, {})) {
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
    socket.on("data", (c: Buffer) => (bytesOut += c.length));
    upstream.on("data", (c: Buffer) => (bytesIn += c.length));
    socket.pipe(upstream);
    upstream.pipe(socket);
    closeWhenIdle(socket, d.env.proxyTimeouts.tunnelIdle, (why) => {
      reason = why;
      done();
    });
    upstream.on("error", done);
    socket.on("error", done);
    let completed = false;
    const complete = () => {
      if (completed) return;
      completed = true;
      audit.complete(attempt, decision, { status: 200, bytesIn, bytesOut, reason });
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
