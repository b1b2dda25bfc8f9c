// CONNECT: admitted like any request (admission.ts), then one of two transports. Hosts where a
// credential may attach are intercepted (TLS terminated with a Gatehouse leaf, requests served
// by the inner server); Domains-only hosts are tunnelled blind after their ClientHello's SNI is
// checked against the target.
import type http from "node:http";
import net from "node:net";
import tls from "node:tls";
import { parseConnectTarget, type Decision, type Target } from "../policy";
import { admit, resolveAdmitted, sessionToFetch, tunnelRefusal } from "./admission";
import { dropped, policyUnavailable } from "./answers";
import { newRequestId, type Attempt, type ProxyCore, type Tunnel } from "./core";
import { MAX_CLIENT_HELLO_BYTES, parseClientHello } from "./client-hello";
import { logger } from "../log";
import { tunnelClosed, tunnelOpened } from "../metrics";
import { upstreamFailure } from "./relay";
import { RequestDeadlines } from "./request-deadlines";
import { answerSocket, type ProxyErrorCode } from "./respond";
import { closeIfSilent, closeWhenIdle, formatDuration } from "./socket-timers";
import { sessionToken } from "./token";
import type { SessionCheck } from "../sessions/verify";
import { reportOnlyHeader } from "./time-bound";

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
    const { audit } = this.#c;
    const token = sessionToken(req.headers["proxy-authorization"]);
    const pending = fetched ? null : sessionToFetch(this.#c, token, this.#c.revisions());
    if (pending) {
      pending
        .then((check) => this.#connect(req, socket, head, requestId, check))
        .catch((err: unknown) => answerSocket(socket, policyUnavailable(requestId, err)));
      return;
    }
    const authority = parseConnectTarget(req.url ?? "");
    if ("error" in authority) {
      return answerSocket(
        socket,
        audit.refuse(
          audit.knownSession(token),
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
    const { host, port } = authority;
    const target: Target = { scheme: "https", host, port, path: "", search: "" };
    const admitted = admit(
      this.#c,
      { requestId, token, method: "CONNECT", target, rawHeaders: req.rawHeaders, headers: req.headers, connection: socket },
      this.#c.revisions(),
      fetched,
    );
    if (!admitted.ok) return answerSocket(socket, admitted.answer);
    const { attempt, decision, policy } = admitted;
    const { session } = attempt;
    const tunnel: Tunnel = { host, port, token: attempt.token, session, clientSocket: socket };
    if (head.length) socket.unshift(head);
    // The transport is chosen after the decision: interception where a credential may attach.
    if (policy.credentialMayApply(session.workspace, session.channel, host)) {
      this.#intercept(socket, tunnel, requestId).catch((err) => dropped(socket, err));
    } else {
      this.#blindTunnel(socket, tunnel, attempt, decision).catch((err) => dropped(socket, err));
    }
  }

  async #intercept(socket: net.Socket, tunnel: Tunnel, requestId: string): Promise<void> {
    const { d } = this.#c;
    let secureContext: tls.SecureContext;
    try {
      secureContext = await d.issuer.contextFor(tunnel.host);
    } catch (err) {
      logger("proxy").error({ requestId }, `issuing a certificate for ${tunnel.host} failed: ${(err as Error).message}`);
      return answerSocket(socket, {
        status: 502,
        code: "upstream_unreachable",
        message: "could not issue a certificate for this host",
        outcome: "blocked",
        requestId,
      });
    }
    socket.write(`HTTP/1.1 200 Connection Established\r\nX-Gatehouse-Request-Id: ${requestId}\r\n\r\n`);
    const tlsSocket = new tls.TLSSocket(socket, {
      isServer: true,
      secureContext,
      ALPNProtocols: ["http/1.1"],
      SNICallback: (servername, cb) => {
        if (servername.toLowerCase().replace(/\.$/, "") === tunnel.host) return cb(null, secureContext);
        tunnelRefusal(this.#c, tunnel, requestId, { sni: servername });
        cb(new Error("SNI differs from the CONNECT target"));
      },
    });
    tlsSocket.on("error", () => tlsSocket.destroy());
    tunnelOpened("intercepted");
    socket.once("close", () => tunnelClosed("intercepted"));
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

  async #blindTunnel(socket: net.Socket, tunnel: Tunnel, attempt: Attempt, decision: Decision): Promise<void> {
    const { d, audit } = this.#c;
    const { requestId } = attempt;
    const resolved = await resolveAdmitted(this.#c, attempt, decision);
    if (!resolved.ok) return answerSocket(socket, resolved.answer);
    // Dialled before the 200: a host that cannot be reached is answered (and recorded) as the
    // failure it is, not as an open tunnel that closes at once. No byte goes up before the
    // ClientHello is checked and the tunnel recorded.
    // Through the parent proxy the tunnel is open (or refused) before anything else happens.
    const viaParent = resolved.address.viaParent
      ? await d.parent!.tunnel(tunnel.host, tunnel.port, d.env.proxyTimeouts.connect).catch((err: NodeJS.ErrnoException) => err)
      : null;
    if (viaParent instanceof Error) {
      const failure = upstreamFailure(viaParent);
      audit.record(attempt, { ...decision, reason: failure.message }, { status: failure.status });
      return answerSocket(socket, { ...failure, outcome: decision.outcome, requestId, host: tunnel.host });
    }
    const upstream = viaParent ?? net.connect({ host: resolved.address.address, port: tunnel.port, timeout: d.env.proxyTimeouts.connect });
    this.#c.sockets.track(tunnel.session.id, upstream, "companion");
    const dialFailure = await new Promise<{ status: number; code: ProxyErrorCode; message: string } | null>((resolve) => {
      if (viaParent) resolve(null);
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
    const reportOnly = reportOnlyHeader(decision);
    socket.write(
      "HTTP/1.1 200 Connection Established\r\nX-Gatehouse-Outcome: allowlisted\r\nX-Gatehouse-Request-Id: " +
        requestId +
        (reportOnly ? `\r\nX-Gatehouse-Report-Only: ${reportOnly}` : "") +
        "\r\n\r\n",
    );
    // A tunnel that rests on a time-bound grant (or report-only) closes when it ends.
    this.#c.expiring.track([socket, upstream], decision);
    tunnelOpened("blind");
    socket.once("close", () => tunnelClosed("blind"));
    // The ClientHello's SNI must name the CONNECT target before a byte goes upstream.
    const hello = await readClientHello(socket, d.env.proxyTimeouts.clientHello);
    if ("error" in hello || (hello.sni !== null && hello.sni !== tunnel.host)) {
      // The 200 is out: the refusal is recorded, and the sandbox sees the tunnel close.
      tunnelRefusal(this.#c, tunnel, requestId, "error" in hello ? hello : { sni: hello.sni! });
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

type ClientHelloRead = { sni: string | null; bytes: Buffer } | { error: string; timedOut: boolean };

async function readClientHello(socket: net.Socket, timeoutMs: number): Promise<ClientHelloRead> {
  return new Promise((resolve) => {
    let buf = Buffer.alloc(0);
    const timer = setTimeout(() => finish({ error: "timed out waiting for the ClientHello", timedOut: true }), timeoutMs);
    const onData = (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      const r = parseClientHello(buf);
      if ("incomplete" in r) {
        if (buf.length > MAX_CLIENT_HELLO_BYTES) finish({ error: "ClientHello too large", timedOut: false });
        return;
      }
      finish("error" in r ? { error: r.error, timedOut: false } : { sni: r.sni, bytes: buf });
    };
    const onEnd = () => finish({ error: "the client closed before its ClientHello", timedOut: false });
    function finish(r: ClientHelloRead) {
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
