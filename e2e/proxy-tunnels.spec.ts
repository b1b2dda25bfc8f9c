// Tunnels through the real proxy: a ClientHello cut into several TLS records is read whole before
// a blind tunnel is decided, and requests inside intercepted tunnels keep header and request
// deadlines (request-headers=3s, request=6s on the e2e server).
import net from "node:net";
import tls from "node:tls";
import { expect, test } from "@playwright/test";
import {
  connectTunnel,
  interceptedTunnel,
  readResponse,
  readUntilClose,
  recordedEvents,
  requestIdOf,
  sessionWithBundle,
  type ProxySession,
} from "./fixtures/proxy-client";
import { startRawUpstream, type RawUpstream } from "./fixtures/raw-upstream";
import { startUpstreams, type Upstreams } from "./fixtures/upstreams";

let up: Upstreams;
let raw: RawUpstream;
let s: ProxySession;

test.beforeAll(async () => {
  up = await startUpstreams();
  raw = await startRawUpstream();
  s = await sessionWithBundle(
    "T0TUNNELS",
    {
      domains: [`registry.gh.test:${up.httpsPort}`],
      connections: [
        {
          name: "api",
          serviceAccount: "bot@acme.example",
          inject: { type: "bearer" },
          allowedWebsites: [`api.gh.test:${up.httpsPort}`, `ws.gh.test:${raw.tlsPort}`],
        },
      ],
    },
    { api: "fake-tunnels-credential-0000" },
  );
});

test.afterAll(async () => {
  await Promise.all([up.close(), raw.close()]);
});

/** The first TLS record a real client (Node's TLS) sends for `servername`. */
async function clientHello(servername: string): Promise<Buffer> {
  return new Promise((resolve) => {
    const server = net.createServer((socket) => {
      let got = Buffer.alloc(0);
      socket.on("data", (d: Buffer) => {
        got = Buffer.concat([got, d]);
        if (got.length >= 5 && got.length >= 5 + got.readUInt16BE(3)) {
          resolve(got.subarray(0, 5 + got.readUInt16BE(3)));
          socket.destroy();
          server.close();
        }
      });
    });
    server.listen(0, "127.0.0.1", () =>
      tls
        .connect({ port: (server.address() as net.AddressInfo).port, host: "127.0.0.1", servername, rejectUnauthorized: false })
        .on("error", () => undefined),
    );
  });
}

/** The same handshake message re-cut into records of `sizes` bytes (the last takes the rest). */
function recut(record: Buffer, sizes: number[]): Buffer {
  const message = record.subarray(5);
  const out: Buffer[] = [];
  let p = 0;
  for (const size of sizes) {
    if (p + size >= message.length) break;
    out.push(Buffer.from([0x16, 3, 1, size >> 8, size & 0xff]), message.subarray(p, p + size));
    p += size;
  }
  const rest = message.length - p;
  out.push(Buffer.from([0x16, 3, 1, rest >> 8, rest & 0xff]), message.subarray(p));
  return Buffer.concat(out);
}

/** Where the extensions of a ClientHello message begin: a cut there leaves server_name for later records. */
function extensionsStart(record: Buffer): number {
  const m = record.subarray(5);
  let p = 4 + 2 + 32;
  p += 1 + m[p]!;
  p += 2 + m.readUInt16BE(p);
  p += 1 + m[p]!;
  return p;
}

for (const [cut, sizes] of [
  ["two records, cut where the extensions begin", (r: Buffer) => [extensionsStart(r)]],
  ["many records of 16 bytes", (r: Buffer) => Array<number>(r.length).fill(16)],
] as const) {
  test(`a ClientHello naming another host in ${cut}: refused, and audited as an SNI mismatch`, async () => {
    const hello = await clientHello("evil.gh.test");
    const { socket, head } = await connectTunnel(s.token, `registry.gh.test:${up.httpsPort}`);
    expect(head).toMatch(/^HTTP\/1\.1 200/);
    const reading = readUntilClose(socket, 8_000);
    socket.write(recut(hello, sizes(hello)));
    const { text, closed } = await reading;
    expect(closed).toBe(true);
    expect(text).toBe(""); // not a byte of the upstream's ServerHello
    const requestId = requestIdOf(head)!;
    const [event] = await recordedEvents(requestId);
    expect(event).toMatchObject({
      outcome: "blocked",
      rule: "transport:sni_mismatch",
      status: 403,
      reason: `TLS SNI evil.gh.test differs from the CONNECT target registry.gh.test`,
    });
  });
}

test("a ClientHello naming the target, cut into many records, goes through whole", async () => {
  const hello = await clientHello("registry.gh.test");
  const { socket, head } = await connectTunnel(s.token, `registry.gh.test:${up.httpsPort}`);
  expect(head).toMatch(/^HTTP\/1\.1 200/);
  const answer = new Promise<Buffer>((resolve) => socket.once("data", resolve).once("close", () => resolve(Buffer.alloc(1))));
  socket.write(recut(hello, Array<number>(hello.length).fill(16)));
  // The upstream read the reassembled ClientHello and answered with its ServerHello.
  expect((await answer)[0]).toBe(0x16);
  socket.destroy();
});

test("headers trickled inside an intercepted tunnel: 408 after request-headers (3 s), then closed", async () => {
  const secure = await interceptedTunnel(s.token, "api.gh.test", up.httpsPort, s.gatehouseCa);
  secure.write(`GET /repos/acme/first HTTP/1.1\r\nHost: api.gh.test:${up.httpsPort}\r\n\r\n`);
  expect(await readResponse(secure)).toMatch(/^HTTP\/1\.1 200 /);
  const reading = readUntilClose(secure, 15_000);
  const started = Date.now();
  const lines = [
    `GET /repos/acme/second HTTP/1.1\r\n`,
    `Host: api.gh.test:${up.httpsPort}\r\n`,
    ...Array.from({ length: 40 }, (_, i) => `X-Slow-${i}: 1\r\n`),
  ];
  const trickle = setInterval(() => (lines.length && !secure.destroyed ? secure.write(lines.shift()!) : clearInterval(trickle)), 250);
  const { text, closed } = await reading;
  clearInterval(trickle);
  const waited = Date.now() - started;
  expect(closed).toBe(true);
  expect(text).toMatch(/^HTTP\/1\.1 408 /);
  expect(text).toContain("request_timeout");
  expect(waited).toBeGreaterThanOrEqual(2_500);
  expect(waited).toBeLessThan(8_000);
  expect(up.received.filter((r) => r.url === "/repos/acme/second")).toEqual([]);
  const requestId = requestIdOf(text)!;
  expect((await recordedEvents(requestId))[0]).toMatchObject({ outcome: "blocked", rule: "transport:request_timeout", status: 408 });
});

test("a body trickled inside an intercepted tunnel: 408 after request (6 s), then closed", async () => {
  const secure = await interceptedTunnel(s.token, "api.gh.test", up.httpsPort, s.gatehouseCa);
  const reading = readUntilClose(secure, 20_000);
  const started = Date.now();
  secure.write(`POST /repos/acme/slow-body HTTP/1.1\r\nHost: api.gh.test:${up.httpsPort}\r\nContent-Length: 1000\r\n\r\n`);
  const trickle = setInterval(() => (!secure.destroyed ? secure.write("x") : clearInterval(trickle)), 250);
  const { text, closed } = await reading;
  clearInterval(trickle);
  const waited = Date.now() - started;
  expect(closed).toBe(true);
  expect(text).toMatch(/^HTTP\/1\.1 408 /);
  expect(waited).toBeGreaterThanOrEqual(5_500);
  expect(waited).toBeLessThan(12_000);
});

test("an answer that takes longer than request (6 s) to a request without a body is not cut", async () => {
  const secure = await interceptedTunnel(s.token, "ws.gh.test", raw.tlsPort, s.gatehouseCa);
  secure.write(`GET /slow-stream HTTP/1.1\r\nHost: ws.gh.test:${raw.tlsPort}\r\n\r\n`);
  const text = await readResponse(secure, 20_000);
  secure.destroy();
  expect(text).toMatch(/^HTTP\/1\.1 200 /);
  expect(text).toMatch(/\r\n0\r\n\r\n$/);
  expect(text).toContain("8\n");
});
