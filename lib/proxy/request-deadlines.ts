// Header and request deadlines for the HTTP server inside intercepted tunnels. Node checks its
// own (headersTimeout, requestTimeout) only on servers that listen(); that one is handed its
// sockets and never listens, so without these a tunnel trickling its headers stays open for ever.
// They watch the TLS socket's byte count on a timer rather than listening for 'data': a 'data'
// listener would take the socket off the HTTP parser's fast path (which reads it in C++).
import type http from "node:http";
import type { Duplex } from "node:stream";

export type DeadlineExpiry = "headers" | "request";

/** What the deadlines read of a socket: it closes, and counts the bytes it has read. */
type CountingSocket = Duplex & { readonly bytesRead: number };

/**
 * One per tunnel. While no request is being served, the socket's byte count is looked at four
 * times per header timeout (at most once a second), as Node's own server does: once bytes have
 * arrived without a request head being read within `requestHeaders`, `expire("headers")` answers
 * 408. A tunnel where nothing arrives is only idle, which Node's keep-alive timeout (and, before
 * any request, the proxy's silence timer) deals with. A request's body has `request` from its
 * head until it has arrived whole.
 */
export class RequestDeadlines {
  readonly #socket: CountingSocket;
  readonly #headersMs: number;
  readonly #requestMs: number;
  readonly #periodMs: number;
  readonly #expire: (which: DeadlineExpiry) => void;
  #watch: NodeJS.Timeout | null = null;
  #request: NodeJS.Timeout | null = null;
  /** Between a request's head and the end of its response. */
  #serving = false;
  #stopped = false;
  /** The byte count when last looked at, and when bytes were first seen with no head read. */
  #seenBytes = 0;
  #bytesSince: number | null = null;
  /** The request being served, to tell a finished one from one still arriving. */
  #current: http.IncomingMessage | null = null;

  constructor(socket: CountingSocket, timeouts: { requestHeaders: number; request: number }, expire: (which: DeadlineExpiry) => void) {
    this.#socket = socket;
    this.#headersMs = timeouts.requestHeaders;
    this.#requestMs = timeouts.request;
    this.#periodMs = Math.min(1_000, Math.ceil(timeouts.requestHeaders / 4));
    this.#expire = expire;
    socket.once("close", () => this.stop());
    this.#waitForHead();
  }

  /** The server read a request's head. */
  requestStarted(req: http.IncomingMessage, res: http.ServerResponse): void {
    if (this.#stopped) return;
    this.#serving = true;
    this.#current = req;
    this.#clearWatch();
    this.#clearRequest();
    this.#request = setTimeout(() => {
      this.#request = null;
      // Its body may have arrived whole without anyone reading it yet ('end' waits for a
      // reader; a GET's is read only after the answer): that is not late.
      if (this.#serving && this.#current?.complete) return;
      this.#fire("request");
    }, this.#requestMs);
    this.#request.unref();
    req.once("end", () => this.#clearRequest());
    let done = false;
    const responded = () => {
      if (done) return;
      done = true;
      this.#serving = false;
      this.#current = null;
      this.#clearRequest();
      this.#waitForHead();
    };
    res.once("finish", responded);
    res.once("close", responded);
  }

  /** The tunnel became something else (a WebSocket) or closed. */
  stop(): void {
    this.#stopped = true;
    this.#clearWatch();
    this.#clearRequest();
  }

  #waitForHead(): void {
    if (this.#stopped) return;
    this.#seenBytes = this.#socket.bytesRead;
    this.#bytesSince = null;
    this.#schedule();
  }

  #schedule(): void {
    this.#clearWatch();
    this.#watch = setTimeout(this.#look, this.#periodMs);
    this.#watch.unref();
  }

  readonly #look = (): void => {
    this.#watch = null;
    if (this.#stopped || this.#serving) return;
    const read = this.#socket.bytesRead;
    if (read !== this.#seenBytes) {
      this.#seenBytes = read;
      this.#bytesSince ??= Date.now();
    }
    if (this.#bytesSince !== null && Date.now() - this.#bytesSince >= this.#headersMs) return this.#fire("headers");
    this.#schedule();
  };

  #fire(which: DeadlineExpiry): void {
    if (this.#stopped) return;
    this.stop();
    this.#expire(which);
  }

  #clearWatch(): void {
    if (this.#watch) clearTimeout(this.#watch);
    this.#watch = null;
  }

  #clearRequest(): void {
    if (this.#request) clearTimeout(this.#request);
    this.#request = null;
  }
}
