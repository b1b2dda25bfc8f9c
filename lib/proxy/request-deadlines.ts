// Header and request deadlines for the HTTP server inside intercepted tunnels. Node checks its
// own (headersTimeout, requestTimeout) only on servers that listen(); that one is handed its
// sockets and never listens, so without these a tunnel trickling its headers stays open for ever.
import type http from "node:http";
import type { Duplex } from "node:stream";

export type DeadlineExpiry = "headers" | "request";

/**
 * One per tunnel. The headers deadline runs whenever no request is being served: from the
 * tunnel's start, from the end of each response, and from the first byte after it passed
 * quietly. When it passes after a byte arrived, `expire("headers")` answers 408; with no byte at
 * all the tunnel is only idle, which Node's keep-alive timeout (and, before any request, the
 * proxy's silence timer) deals with. The request deadline runs from a request's first byte to
 * the end of its body.
 */
export class RequestDeadlines {
  readonly #socket: Duplex;
  readonly #headersMs: number;
  readonly #requestMs: number;
  readonly #expire: (which: DeadlineExpiry) => void;
  #headers: NodeJS.Timeout | null = null;
  #request: NodeJS.Timeout | null = null;
  /** Between a request's head and the end of its response. */
  #serving = false;
  /** A byte arrived since the headers deadline started. */
  #spoke = false;
  #stopped = false;
  /** The request being served, to tell a finished one from one still arriving. */
  #current: http.IncomingMessage | null = null;

  constructor(socket: Duplex, timeouts: { requestHeaders: number; request: number }, expire: (which: DeadlineExpiry) => void) {
    this.#socket = socket;
    this.#headersMs = timeouts.requestHeaders;
    this.#requestMs = timeouts.request;
    this.#expire = expire;
    // Before the HTTP parser sees the bytes, so a request that arrives whole starts its clock too.
    socket.prependListener("data", this.#onData);
    socket.once("close", () => this.stop());
    this.#startHeaders();
  }

  /** The server read a request's head. */
  requestStarted(req: http.IncomingMessage, res: http.ServerResponse): void {
    if (this.#stopped) return;
    this.#serving = true;
    this.#current = req;
    this.#clear("headers");
    // A request without a body is whole once its head is read ('end' waits for someone to read it).
    if (req.complete) this.#clear("request");
    else if (!this.#request) this.#startRequest();
    req.once("end", () => this.#clear("request"));
    let done = false;
    const responded = () => {
      if (done) return;
      done = true;
      this.#serving = false;
      this.#clear("request");
      this.#startHeaders();
    };
    res.once("finish", responded);
    res.once("close", responded);
  }

  /** The tunnel became something else (a WebSocket) or closed. */
  stop(): void {
    this.#stopped = true;
    this.#clear("headers");
    this.#clear("request");
    this.#socket.off("data", this.#onData);
  }

  readonly #onData = (): void => {
    if (this.#serving || this.#stopped) return;
    this.#spoke = true;
    if (!this.#headers) this.#armHeaders();
    if (!this.#request) this.#startRequest();
  };

  #startHeaders(): void {
    if (this.#stopped) return;
    this.#clear("headers");
    this.#spoke = false;
    this.#armHeaders();
  }

  #armHeaders(): void {
    this.#headers = setTimeout(() => {
      this.#headers = null;
      if (this.#spoke) this.#fire("headers");
    }, this.#headersMs);
    this.#headers.unref();
  }

  #startRequest(): void {
    this.#request = setTimeout(() => {
      this.#request = null;
      // Its body may have arrived whole without anyone reading it yet: that is not late.
      if (this.#serving && this.#current?.complete) return;
      this.#fire("request");
    }, this.#requestMs);
    this.#request.unref();
  }

  #fire(which: DeadlineExpiry): void {
    if (this.#stopped) return;
    this.stop();
    this.#expire(which);
  }

  #clear(which: DeadlineExpiry): void {
    const timer = which === "headers" ? this.#headers : this.#request;
    if (timer) clearTimeout(timer);
    if (which === "headers") this.#headers = null;
    else this.#request = null;
  }
}
