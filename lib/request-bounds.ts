// Bounds on what a client may send to the dashboard's listener, applied in server.ts before a
// request reaches Next: bodies are counted while they stream and refused the moment they pass
// their route's limit, so no handler ever holds more than that in memory.
import type http from "node:http";
import { Socket } from "node:net";
import { API_SECURITY_HEADERS } from "./security-headers";

/** next-auth's endpoints take a few form fields: an email, a password, a CSRF token. */
export const AUTH_BODY_MAX = 64 * 1024;
/** Everything else (API writes, server actions): the API's 1 MiB document limit. */
export const BODY_MAX = 1024 * 1024;

export function bodyLimitFor(url: string): number {
  return url.startsWith("/api/auth/") || url === "/api/auth" ? AUTH_BODY_MAX : BODY_MAX;
}

/** After answering early, what is still read (and dropped) so the client sees the answer rather than a reset. */
const DRAIN_MAX_BYTES = 8 * 1024 * 1024;
const DRAIN_MAX_MS = 2000;

/**
 * Node closes a "Connection: close" answer's socket both ways at once, and a client still
 * sending its body then gets a reset before it reads the answer (a 413 here, or a 401/403
 * from a route that refused before reading). Half-close instead, drop what follows for a
 * bounded while, then close.
 */
function closeGently(socket: Socket): void {
  socket.end();
  let drained = 0;
  socket.on("data", (chunk: Buffer) => {
    drained += chunk.length;
    if (drained > DRAIN_MAX_BYTES) socket.destroy();
  });
  setTimeout(() => socket.destroy(), DRAIN_MAX_MS).unref();
}

function refuse(req: http.IncomingMessage, res: http.ServerResponse, limit: number): void {
  if (res.headersSent) return void closeGently(req.socket);
  const body = JSON.stringify({ error: { code: "payload_too_large", message: `the body is larger than ${limit} bytes` } });
  for (const h of API_SECURITY_HEADERS) res.setHeader(h.key, h.value);
  res.writeHead(413, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(body), Connection: "close" });
  res.end(body);
}

/**
 * Applies the byte limit to one request. Returns false when the request was answered here
 * (413 for a declared length past the limit); otherwise counts the body as it arrives and,
 * past the limit, stops passing it on, answers 413 and closes the connection.
 */
export function boundRequestBody(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  limit: number = bodyLimitFor(req.url ?? "/"),
): boolean {
  const declared = req.headers["content-length"];
  if (declared !== undefined && Number(declared) > limit) {
    req.socket.destroySoon = () => closeGently(req.socket);
    refuse(req, res, limit);
    req.resume();
    return false;
  }
  if (declared === undefined && req.headers["transfer-encoding"] === undefined) return true;
  // Whoever answers before the body is in (this 413, or a route refusing first) closes gently.
  // (Set per request: a keep-alive socket's next request replaces it rather than wrapping it.)
  const socket = req.socket;
  socket.destroySoon = () => (req.complete ? Socket.prototype.destroySoon.call(socket) : closeGently(socket));
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
