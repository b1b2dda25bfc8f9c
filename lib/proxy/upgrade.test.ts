import type http from "node:http";
import { describe, expect, it } from "vitest";
import { formatHead, isWebSocketKey, switchedToWebSocket, webSocketAccept } from "./upgrade";

const answer = (statusCode: number, headers: http.IncomingHttpHeaders) => ({ statusCode, headers }) as http.IncomingMessage;
const KEY = "dGhlIHNhbXBsZSBub25jZQ==";

describe("the WebSocket handshake", () => {
  it("computes RFC 6455's example accept value", () => {
    expect(webSocketAccept(KEY)).toBe("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
  });

  it("takes only a base64 16-byte key", () => {
    expect(isWebSocketKey(KEY)).toBe(true);
    for (const bad of [undefined, "", "short==", `${KEY}x`, "dGhlIHNhbXBsZSBub25jZR==", ["a", "b"]])
      expect(isWebSocketKey(bad)).toBe(false);
  });

  it("counts a 101 as switched only with Upgrade: websocket and this key's accept", () => {
    const accept = webSocketAccept(KEY);
    expect(switchedToWebSocket(answer(101, { upgrade: "WebSocket", "sec-websocket-accept": accept }), KEY)).toBe(true);
    expect(switchedToWebSocket(answer(200, { upgrade: "websocket", "sec-websocket-accept": accept }), KEY)).toBe(false);
    expect(switchedToWebSocket(answer(101, { upgrade: "h2c", "sec-websocket-accept": accept }), KEY)).toBe(false);
    expect(switchedToWebSocket(answer(101, { upgrade: "websocket" }), KEY)).toBe(false);
    expect(
      switchedToWebSocket(answer(101, { upgrade: "websocket", "sec-websocket-accept": webSocketAccept("AAAAAAAAAAAAAAAAAAAAAA==") }), KEY),
    ).toBe(false);
  });

  it("writes a head with every value of a repeated field", () => {
    expect(formatHead(404, { a: "1", "set-cookie": ["x=1", "y=2"] })).toBe(
      "HTTP/1.1 404 Not Found\r\na: 1\r\nset-cookie: x=1\r\nset-cookie: y=2\r\n\r\n",
    );
  });
});
