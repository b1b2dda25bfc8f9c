// One request sent upstream and its response relayed to the sandbox: undici's parser calls
// straight into the ServerResponse, chunk by chunk (no intermediate stream), redacting on the way
// when a secret went out. A class rather than a handful of closures, because one is made for
// every request.
import type http from "node:http";
import zlib from "node:zlib";
import type { Dispatcher } from "undici";
import type { Outcome } from "../policy";
import { downstreamResponseHeaders } from "./headers";
import { BodyRedactor, redactHeaders } from "./redact";
import { countUpstreamFailure } from "../metrics";
import { UPSTREAM_FAILURES, answer, type ProxyErrorCode } from "./respond";

export class Relay<Context> implements Dispatcher.DispatchHandler {
  /** The upstream's status, or Gatehouse's own when the upstream failed. */
  status = 0;
  /** Response body bytes received from the upstream. */
  bytesIn = 0;
  /** Request body bytes; counted by whoever feeds the body. */
  bytesOut = 0;
  /** Whether the upstream answered at all. */
  responded = false;
  /** Why the exchange ended early, if it did. */
  failure: string | undefined;
  /** Whatever the caller needs again when the exchange is over. */
  readonly context: Context;

  readonly #res: http.ServerResponse;
  readonly #requestId: string;
  readonly #outcome: Outcome;
  readonly #needles: string[];
  readonly #onSettled: (relay: Relay<Context>) => void;
  readonly #onStaleConnection: ((relay: Relay<Context>) => boolean) | undefined;
  #settled = false;
  #controller: Dispatcher.DispatchController | null = null;
  #redactor: BodyRedactor | null = null;
  #waitingForDrain = false;
  /**
   * The response head, held until the first body byte (or the end): Node would not send it any
   * earlier, and until then a broken upstream can still be answered with a clean 502.
   */
  #head: Record<string, string | string[]> | null = null;
  /** Unpacks a compressed body that must be scanned (the upstream ignored our `identity`). */
  #decoder: zlib.Gunzip | zlib.Inflate | zlib.BrotliDecompress | null = null;
  #decoderFed = false;
  /** `X-Gatehouse-Report-Only` for a channel in report-only mode. */
  readonly #reportOnly: string | undefined;

  /**
   * `needles` are the spellings of the secret that was attached (none: nothing to redact).
   * `onSettled` runs once, when the response is complete or the exchange failed.
   * `onStaleConnection` may send the request again when the upstream closed the connection before
   * answering (true: it did, and this relay serves the new attempt).
   */
  constructor(
    res: http.ServerResponse,
    opts: {
      requestId: string;
      outcome: Outcome;
      reportOnly?: string;
      needles: string[];
      context: Context;
      onSettled: (relay: Relay<Context>) => void;
      onStaleConnection?: (relay: Relay<Context>) => boolean;
    },
  ) {
    this.#res = res;
    this.#requestId = opts.requestId;
    this.#outcome = opts.outcome;
    this.#reportOnly = opts.reportOnly;
    this.#needles = opts.needles;
    this.context = opts.context;
    this.#onSettled = opts.onSettled;
    this.#onStaleConnection = opts.onStaleConnection;
    res.once("close", () => this.#onClientClose());
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.#controller = controller;
    if (this.#res.destroyed) controller.abort(new Error("the client went away"));
  }

  onResponseStart(
    controller: Dispatcher.DispatchController,
    statusCode: number,
    upstreamHeaders: Record<string, string | string[] | undefined>,
  ): void {
    const res = this.#res;
    if (res.destroyed) return controller.abort(new Error("the client went away"));
    // Informational answers (103 Early Hints, 102) are dropped; the final one follows. Sandboxes
    // speak HTTP/1.1 with clients such as Python's http.client, which takes a 103 for the final
    // answer: RFC 8297 §3 suggests not sending 103 to HTTP/1.1 clients for exactly this reason.
    if (statusCode < 200) return;
    this.status = statusCode;
    this.responded = true;
    const out = downstreamResponseHeaders(upstreamHeaders);
    const needles = this.#needles;
    if (needles.length) redactHeaders(out, needles);
    // A session the upstream opens for the attached credential is a credential too: it stays here.
    if (this.#outcome === "credentialed") delete out["set-cookie"];
    // A HEAD, 204 or 304 answer has no body: its Content-Length describes the resource, and stays.
    if (needles.length && res.req.method !== "HEAD" && statusCode !== 204 && statusCode !== 304) {
      // Every body is scanned, whatever its declared type: a reflection labelled binary, or not
      // labelled at all (an echo endpoint, TRACE's message/http), would otherwise go through.
      // undici takes off the chunking and nothing else: under any other transfer coding
      // (gzip, chunked) the bytes scanned would not be the bytes the sandbox unpacks.
      const coding = otherTransferCoding(upstreamHeaders["transfer-encoding"]);
      if (coding)
        return this.#fail(
          {
            status: 502,
            code: "upstream_invalid_response",
            message: `the upstream's answer was not valid HTTP: it is sent in the ${coding} transfer coding, which Gatehouse cannot scan for the credential`,
          },
          controller,
        );
      this.#redactor = new BodyRedactor(needles);
      delete out["content-length"];
      const encoding = String(out["content-encoding"] ?? "identity")
        .trim()
        .toLowerCase();
      if (encoding !== "identity") {
        // Compressed bytes cannot be searched for the secret: unpack them, or refuse them.
        const decoder = decoderFor(encoding);
        if (!decoder)
          return this.#fail(
            {
              status: 502,
              code: "upstream_invalid_response",
              message: `the upstream's answer was not valid HTTP: a body in ${encoding} encoding, which Gatehouse cannot scan for the credential`,
            },
            controller,
          );
        delete out["content-encoding"];
        this.#decode(decoder);
      }
    }
    out["x-gatehouse-outcome"] = this.#outcome;
    out["x-gatehouse-request-id"] = this.#requestId;
    if (this.#reportOnly) out["x-gatehouse-report-only"] = this.#reportOnly;
    this.#head = out;
    // An event stream may stay quiet for a while after its head: the sandbox gets the head now.
    if (String(out["content-type"] ?? "").startsWith("text/event-stream")) {
      this.#writeHead();
      res.flushHeaders();
    }
  }

  #writeHead(): void {
    this.#res.writeHead(this.status, this.#head!);
    this.#head = null;
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.#settled) return;
    this.bytesIn += chunk.length;
    if (this.#decoder) {
      this.#decoderFed = true;
      this.#decoder.write(chunk);
    } else this.#forward(controller, chunk);
  }

  onResponseEnd(): void {
    if (this.#settled) return;
    // With a decoder, the body is complete when the decoder has drained (#decode). No body at
    // all (HEAD, 204, 304) is not a corrupt one, though zlib would say so.
    if (this.#decoder && this.#decoderFed) this.#decoder.end();
    else {
      this.#decoder?.destroy();
      this.#finish();
    }
  }

  onResponseError(_controller: Dispatcher.DispatchController, err: Error): void {
    // A kept-alive connection the upstream closed just as the request went out: nothing was
    // answered, so the caller may send it again on another connection.
    if (!this.responded && !this.#settled && isStaleConnection(err as NodeJS.ErrnoException) && this.#onStaleConnection?.(this)) return;
    this.#fail(upstreamFailure(err as NodeJS.ErrnoException));
  }

  /** Body bytes as the sandbox may see them: redacted, after the head, with backpressure. */
  #forward(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    const data = this.#redactor ? this.#redactor.push(chunk) : chunk;
    if (this.#head) this.#writeHead();
    if (data.length && !this.#res.write(data) && !this.#waitingForDrain) {
      // Backpressure: the upstream waits for the sandbox.
      this.#waitingForDrain = true;
      controller.pause();
      // A decoder holds its output back too: a small compressed body can unpack to a large one.
      this.#decoder?.pause();
      this.#res.once("drain", () => {
        this.#waitingForDrain = false;
        this.#decoder?.resume();
        controller.resume();
      });
    }
  }

  #finish(): void {
    if (this.#head) this.#writeHead();
    const tail = this.#redactor?.end();
    this.#res.end(tail?.length ? tail : undefined);
    this.#settle();
  }

  /** Ends the exchange with Gatehouse's answer if nothing was relayed yet; `abort` stops the upstream. */
  #fail(failure: { status: number; code: ProxyErrorCode; message: string }, abort?: Dispatcher.DispatchController): void {
    if (this.#settled) return;
    this.#decoder?.destroy();
    if (!this.#res.headersSent) {
      this.status = failure.status;
      answer(this.#res, { ...failure, outcome: this.#outcome, requestId: this.#requestId });
    } else {
      // answer() counts the failures it sends; one in the middle of a body is counted here.
      if (UPSTREAM_FAILURES.has(failure.code)) countUpstreamFailure(failure.code);
      this.#res.destroy();
    }
    this.#settle(failure.message);
    // Last: undici reports the abort back through onResponseError, which finds this settled.
    abort?.abort(new Error(failure.message));
  }

  #decode(decoder: zlib.Gunzip | zlib.Inflate | zlib.BrotliDecompress): void {
    this.#decoder = decoder;
    decoder.on("data", (chunk: Buffer) => this.#forward(this.#controller!, chunk));
    decoder.once("end", () => this.#finish());
    decoder.once("error", () =>
      this.#fail(
        {
          status: 502,
          code: "upstream_invalid_response",
          message: "the upstream's answer was not valid HTTP: its compressed body is corrupt",
        },
        this.#controller!,
      ),
    );
  }

  #onClientClose(): void {
    if (this.#res.writableFinished || this.#settled) return;
    this.#decoder?.destroy();
    this.#controller?.abort(new Error("the client went away"));
    this.#settle("the client closed the connection before the response was complete");
  }

  #settle(failure?: string): void {
    if (this.#settled) return;
    this.#settled = true;
    this.failure = failure;
    this.#onSettled(this);
  }
}

/** The connection went away under the request, and not because its answer was refused. */
function isStaleConnection(err: NodeJS.ErrnoException): boolean {
  const code = err.code ?? "";
  return (code === "UND_ERR_SOCKET" || code === "ECONNRESET" || code === "EPIPE") && invalidResponse(err, code, err.name) === null;
}

/** The first transfer coding other than chunked, if the upstream used one. */
export function otherTransferCoding(header: string | string[] | undefined): string | null {
  if (header === undefined) return null;
  for (const c of (Array.isArray(header) ? header.join(",") : header).split(",")) {
    const coding = c.trim().toLowerCase();
    if (coding !== "" && coding !== "chunked") return coding;
  }
  return null;
}

function decoderFor(encoding: string): zlib.Gunzip | zlib.Inflate | zlib.BrotliDecompress | null {
  if (encoding === "gzip" || encoding === "x-gzip") return zlib.createGunzip();
  if (encoding === "deflate") return zlib.createInflate();
  if (encoding === "br") return zlib.createBrotliDecompress();
  return null;
}

/** What the sandbox is told when the upstream could not be reached or did not verify. */
export function upstreamFailure(err: NodeJS.ErrnoException): { status: number; code: ProxyErrorCode; message: string } {
  const code = err.code ?? (err.cause as NodeJS.ErrnoException | undefined)?.code ?? "";
  const name = err.name ?? "";
  if (code === "EGATEHOUSE_REFUSED") return { status: 403, code: "private_address", message: err.message };
  if (code === "EGATEHOUSE_TOKEN_IN_BODY") return { status: 403, code: "token_in_request", message: err.message };
  if (/CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS|HOSTNAME/i.test(code) || /certificate/i.test(err.message))
    return { status: 502, code: "upstream_tls_failed", message: "the upstream's TLS certificate did not verify" };
  if (/Timeout/i.test(name) || /TIMEOUT/.test(code))
    return { status: 504, code: "upstream_timeout", message: "the upstream did not answer in time" };
  const invalid = invalidResponse(err, code, name);
  if (invalid) return { status: 502, code: "upstream_invalid_response", message: `the upstream's answer was not valid HTTP: ${invalid}` };
  return { status: 502, code: "upstream_unreachable", message: `the upstream could not be reached (${code || name || "error"})` };
}

/** Why undici refused the upstream's response, if it did (as opposed to a connection that failed). */
function invalidResponse(err: Error, code: string, name: string): string | null {
  if (name === "HTTPParserError" || code.startsWith("HPE_")) return err.message;
  if (code === "UND_ERR_RES_CONTENT_LENGTH_MISMATCH") return "its Content-Length does not match its body";
  if (code === "UND_ERR_HEADERS_OVERFLOW") return "its headers are too large";
  if (code === "UND_ERR_SOCKET" && /^bad (response|upgrade)$/.test(err.message)) return err.message;
  return null;
}
