import { EventEmitter } from "node:events";
import type http from "node:http";
import { PassThrough } from "node:stream";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { RequestDeadlines, type DeadlineExpiry } from "./request-deadlines";

const TIMEOUTS = { requestHeaders: 3_000, request: 6_000 };

/** A tunnel's socket as the deadlines see it: a byte count the test moves. */
function tunnel() {
  const socket = Object.assign(new PassThrough(), { bytesRead: 0 });
  const expired: DeadlineExpiry[] = [];
  const deadlines = new RequestDeadlines(socket, TIMEOUTS, (which) => expired.push(which));
  const request = (complete = false) => {
    const req = Object.assign(new EventEmitter(), { complete }) as unknown as http.IncomingMessage;
    const res = new EventEmitter() as http.ServerResponse;
    deadlines.requestStarted(req, res);
    return { end: () => req.emit("end"), respond: () => res.emit("finish") };
  };
  return { arrive: (n: number) => (socket.bytesRead += n), expired, deadlines, request };
}

describe("RequestDeadlines", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it("answers 408 when a request's head trickles past request-headers from its first bytes", () => {
    const t = tunnel();
    vi.advanceTimersByTime(2_000);
    t.arrive(16);
    for (let i = 0; i < 5; i++) {
      vi.advanceTimersByTime(500);
      t.arrive(6);
    }
    expect(t.expired).toEqual([]);
    vi.advanceTimersByTime(1_500);
    expect(t.expired).toEqual(["headers"]);
  });

  it("leaves an idle tunnel alone, and still catches a trickle that starts much later", () => {
    const t = tunnel();
    const r = t.request();
    r.end();
    r.respond();
    vi.advanceTimersByTime(60_000);
    expect(t.expired).toEqual([]);
    t.arrive(1);
    vi.advanceTimersByTime(3_000 + 750);
    expect(t.expired).toEqual(["headers"]);
  });

  it("gives a request's body until request, and stops counting once it has arrived", () => {
    const t = tunnel();
    t.arrive(20);
    t.request();
    vi.advanceTimersByTime(5_999);
    expect(t.expired).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(t.expired).toEqual(["request"]);

    const u = tunnel();
    u.request().end();
    vi.advanceTimersByTime(60_000); // a long answer is not the sandbox's delay
    expect(u.expired).toEqual([]);
  });

  it("does not cut a long answer to a request without a body, whose 'end' nobody reads", () => {
    const t = tunnel();
    t.request(true);
    vi.advanceTimersByTime(60_000);
    expect(t.expired).toEqual([]);
  });

  it("stops for good when the tunnel becomes a WebSocket", () => {
    const t = tunnel();
    t.arrive(10);
    t.deadlines.stop();
    vi.advanceTimersByTime(60_000);
    expect(t.expired).toEqual([]);
  });
});
