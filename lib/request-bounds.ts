// Bounds on what a client may send to the dashboard's listener, applied in server.ts before a
// request reaches Next: bodies are counted while they stream and refused the moment they pass
// their route's limit, so no handler ever holds more than that in memory.
import type http from "node:http";

/** next-auth's endpoints take a few form fields: an email, a password, a CSRF token. */
export const AUTH_BODY_MAX = 64 * 1024;
/** Everything else (API writes, server actions): the API's 1 MiB document limit. */
export const BODY_MAX = 1024 * 1024;

export function bodyLimitFor(url: string): number {
  return url.startsWith("/api/auth/") || url === "/api/auth" ? AUTH_BODY_MAX : BODY_MAX;
}

/** After a 413, what is still read (and dropped) so the client sees the answer rather than a reset. */
const DRAIN_MAX_BYTES = 8 * 1024 * 1024;
const DRAIN_MAX_MS = 2000;

function refuse(req: http.IncomingMessage, res: http.ServerResponse, limit: number): void {
  const socket = req.socket;
  // Node closes a "Connection: close" answer's socket both ways at once, and a client still
  // sending then gets a reset before it reads the 413. Half-close instead, drop what follows for
  // a bounded while, then close.
  socket.destroySoon = () => void socket.end();
  let drained = 0;
  socket.on("data", (chunk: Buffer) => {
    drained += chunk.length;
    if (drained > DRAIN_MAX_BYTES) socket.destroy();
  });
  setTimeout(() => socket.destroy(), DRAIN_MAX_MS).unref();
  if (!res.headersSent) {
    const body = JSON.stringify({ error: { code: "payload_too_large", message: `the body is larger than ${limit} bytes` } });
    res.writeHead(413, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(body), Connection: "close", "Cache-Control": "no-store" });
    res.end(body);
  } else socket.end();
}

/**
 * Applies the byte limit to one request. Returns false when the request was answered here
 * (413 for a declared length past the limit); otherwise counts the body as it arrives and,
 * past the limit, stops passing it on, answers 413 and closes the connection.
 */
export function boundRequestBody(req: http.IncomingMessage, res: http.ServerResponse, limit: number = bodyLimitFor(req.url ?? "/")): boolean {
  const declared = req.headers["content-length"];
  if (declared !== undefined && Number(declared) > limit) {
    refuse(req, res, limit);
    req.resume();
    return false;
  }
  if (declared === undefined && req.headers["transfer-encoding"] === undefined) return true;
  let seen = 0;
  let over = false;
  const push = req.push.bind(req);
  // The HTTP parser hands each body chunk to push(): counting here sees every byte before any
  // consumer buffers it.
  req.push = (chunk: unknown, encoding?: BufferEncoding) => {
    if (over) return true;
    if (chunk !== null && chunk !== undefined) {
      seen += (chunk as Buffer).length;
      if (seen > limit) {
        over = true;
        refuse(req, res, limit);
        return true;
      }
    }
    return push(chunk, encoding);
  };
  return true;
}
