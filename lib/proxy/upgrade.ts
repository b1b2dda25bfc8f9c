// The WebSocket handshake toward an upstream. Node's HTTP client sends the upgrade and parses
// the answer, so an answer that does not switch protocols is read (and framed) like any other
// response: it is relayed as one and the connection ends, never piped.
import crypto from "node:crypto";
import http from "node:http";

const WEBSOCKET_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/** RFC 6455 §4.1: base64 of 16 random bytes. */
export function isWebSocketKey(key: unknown): key is string {
  return typeof key === "string" && /^[A-Za-z0-9+/]{21}[AQgw]==$/.test(key);
}

export function webSocketAccept(key: string): string {
  return crypto
    .createHash("sha1")
    .update(key + WEBSOCKET_GUID)
    .digest("base64");
}

/**
 * A 101 counts only when it switches to WebSocket and answers the sandbox's own key (RFC 6455
 * §4.2.2): anything else is a server that did not understand the upgrade.
 */
export function switchedToWebSocket(res: http.IncomingMessage, key: string): boolean {
  const upgrade = res.headers.upgrade;
  const accept = res.headers["sec-websocket-accept"];
  return (
    res.statusCode === 101 && typeof upgrade === "string" && upgrade.trim().toLowerCase() === "websocket" && accept === webSocketAccept(key)
  );
}

/** A response head as it goes on the wire. Values come from Node's parser: no CR or LF in them. */
export function formatHead(status: number, headers: Record<string, string | string[]>): string {
  const lines = [`HTTP/1.1 ${status} ${http.STATUS_CODES[status] ?? "Unknown"}`];
  for (const [name, value] of Object.entries(headers)) for (const v of Array.isArray(value) ? value : [value]) lines.push(`${name}: ${v}`);
  return `${lines.join("\r\n")}\r\n\r\n`;
}
