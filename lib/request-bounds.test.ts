// boundRequestBody over a real loopback server: bodies at the limit pass through intact,
// one byte more is refused with 413 whatever the framing.
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { boundRequestBody } from "./request-bounds";

const LIMIT = 1000;
let server: http.Server;
let port: number;

beforeAll(async () => {
  server = http.createServer((req, res) => {
    if (!boundRequestBody(req, res, LIMIT)) return;
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => res.end(`got ${Buffer.concat(chunks).toString("latin1")}`));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  port = (server.address() as AddressInfo).port;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

function send(body: string, chunked: boolean): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: "127.0.0.1",
        port,
        method: "POST",
        path: "/",
        agent: false,
        headers: chunked ? { "transfer-encoding": "chunked" } : { "content-length": Buffer.byteLength(body) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => resolve({ status: res.statusCode!, text: Buffer.concat(chunks).toString("latin1") }));
      },
    );
    req.on("error", reject);
    if (chunked) for (let i = 0; i < body.length; i += 100) req.write(body.slice(i, i + 100));
    else req.write(body);
    req.end();
  });
}

describe("boundRequestBody", () => {
  for (const chunked of [false, true]) {
    it(`passes a body of exactly the limit through intact (${chunked ? "chunked" : "Content-Length"})`, async () => {
      const body = "x".repeat(LIMIT - 1) + "!";
      expect(await send(body, chunked)).toEqual({ status: 200, text: `got ${body}` });
    });
    it(`refuses one byte more with 413 (${chunked ? "chunked" : "Content-Length"})`, async () => {
      const r = await send("x".repeat(LIMIT + 1), chunked);
      expect(r.status).toBe(413);
      expect(JSON.parse(r.text).error.code).toBe("payload_too_large");
    });
  }
  it("leaves requests without a body alone", async () => {
    const r = await new Promise<number>((resolve) =>
      http.get({ host: "127.0.0.1", port, path: "/", agent: false }, (res) => (res.resume(), resolve(res.statusCode!))),
    );
    expect(r).toBe(200);
  });
});
