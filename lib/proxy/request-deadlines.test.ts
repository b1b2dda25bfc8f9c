import { EventEmitter } from "node:events";
import type http from "node:http";
import { PassThrough } from "node:stream";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { RequestDeadlines, type DeadlineExpiry } from "./request-deadlines";

const TIMEOUTS = { requestHeaders: 3_000, request: 6_000 };

function tunnel() {
  const socket = new PassThrough();
  socket.on("data", () => undefined); // the HTTP server's own reader
  const expired: DeadlineExpiry[] = [];
  const deadlines = new RequestDeadlines(socket, TIMEOUTS, (which) => expired.push(which));
  const request = (complete = false) => {
    const req = Object.assign(new EventEmitter(), { complete }) as unknown as http.IncomingMessage;
    const res = new EventEmitter() as http.ServerResponse;
    deadlines.requestStarted(req, res);
    return { end: () => req.emit("end"), respond: () => res.emit("finish") };
  };
  return { socket, expired, deadlines, request };
}

describe("RequestDeadlines", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it("answers 408 when a request's headers trickle past request-headers, counted from its first byte", () => {
    const t = tunnel();
    vi.advanceTimersByTime(2_000);
    t.socket.write("GET / HTTP/1.1\r\n");
    vi.advanceTimersByTime(999);
    expect(t.expired).toEqual([]);
    for (let i = 0; i < 10; i++) {
      t.socket.write("X: 1\r\n");
      vi.advanceTimersByTime(500);
    }
    expect(t.expired).toEqual(["headers"]);
  });

  it("leaves an idle tunnel alone; a byte after a quiet expiry starts the clock again", () => {
    const t = tunnel();
    const r = t.request();
    r.end();
    r.respond();
    vi.advanceTimersByTime(10_000);
    expect(t.expired).toEqual([]);
    t.socket.write("G");
    vi.advanceTimersByTime(3_000);
    expect(t.expired).toEqual(["headers"]);
  });

  it("gives a request's body until request, and stops counting once it has arrived", () => {
    const t = tunnel();
    t.socket.write("POST / HTTP/1.1\r\n\r\n");
    t.request();
    vi.advanceTimersByTime(5_999);
    expect(t.expired).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(t.expired).toEqual(["request"]);

    const u = tunnel();
    u.socket.write("POST / HTTP/1.1\r\n\r\n");
    const slowAnswer = u.request();
    slowAnswer.end();
    vi.advanceTimersByTime(60_000); // a long response is not the sandbox's delay
    expect(u.expired).toEqual([]);
  });

  it("does not cut a long answer to a request without a body, whose 'end' nobody reads", () => {
    const t = tunnel();
    t.socket.write("GET /big HTTP/1.1\r\n\r\n");
    t.request(true);
    vi.advanceTimersByTime(60_000);
    expect(t.expired).toEqual([]);
  });

  it("stops for good when the tunnel becomes a WebSocket", () => {
    const t = tunnel();
    t.socket.write("GET /ws HTTP/1.1\r\n");
    t.deadlines.stop();
    vi.advanceTimersByTime(60_000);
    expect(t.expired).toEqual([]);
  });
});
