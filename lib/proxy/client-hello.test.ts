// The ClientHello parser decides blind tunnels: it must read what a TLS server reads, however
// the message is cut into records, and refuse whatever a server might read differently.
import net from "node:net";
import tls from "node:tls";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { MAX_CLIENT_HELLO, parseClientHello } from "./client-hello";

const u16 = (n: number) => Buffer.from([n >> 8, n & 0xff]);
const u24 = (n: number) => Buffer.from([n >> 16, (n >> 8) & 0xff, n & 0xff]);

function sniExtension(...names: string[]): Buffer {
  const list = Buffer.concat(names.map((n) => Buffer.concat([Buffer.from([0]), u16(n.length), Buffer.from(n, "latin1")])));
  const data = Buffer.concat([u16(list.length), list]);
  return Buffer.concat([u16(0), u16(data.length), data]);
}

const extension = (type: number, data: Buffer) => Buffer.concat([u16(type), u16(data.length), data]);

/** A ClientHello body with the given extensions (null: no extensions block at all). */
function helloBody(extensions: Buffer[] | null, sessionId = Buffer.alloc(32, 7)): Buffer {
  const fixed = Buffer.concat([
    Buffer.from([3, 3]),
    Buffer.alloc(32, 1),
    Buffer.from([sessionId.length]),
    sessionId,
    u16(4),
    Buffer.from([0x13, 0x01, 0x13, 0x02]),
    Buffer.from([1, 0]),
  ]);
  if (!extensions) return fixed;
  const all = Buffer.concat(extensions);
  return Buffer.concat([fixed, u16(all.length), all]);
}

const handshake = (body: Buffer) => Buffer.concat([Buffer.from([1]), u24(body.length), body]);

/** Cuts a handshake message into records of the given sizes (the last takes the rest). */
function records(message: Buffer, sizes: number[] = []): Buffer {
  const out: Buffer[] = [];
  let p = 0;
  for (const size of sizes) {
    if (p + size >= message.length) break;
    out.push(Buffer.from([0x16, 3, 1]), u16(size), message.subarray(p, p + size));
    p += size;
  }
  out.push(Buffer.from([0x16, 3, 1]), u16(message.length - p), message.subarray(p));
  return Buffer.concat(out);
}

async function realHello(servername: string): Promise<Buffer> {
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
    server.listen(0, "127.0.0.1", () => {
      const c = tls.connect({ port: (server.address() as net.AddressInfo).port, host: "127.0.0.1", servername, rejectUnauthorized: false });
      c.on("error", () => undefined);
    });
  });
}

describe("parseClientHello", () => {
  it("reads a real ClientHello whole, cut into two records inside its extensions, and into many", async () => {
    const one = await realHello("evil.example.com");
    const message = one.subarray(5);
    expect(parseClientHello(one)).toEqual({ sni: "evil.example.com", length: one.length });
    // Cut right where the extensions begin: the first record holds no server_name at all.
    const two = records(message, [4 + 2 + 32 + 1 + message[4 + 34]! + 2]);
    expect(parseClientHello(two)).toEqual({ sni: "evil.example.com", length: two.length });
    const many = records(message, Array(message.length).fill(7));
    expect(parseClientHello(many)).toEqual({ sni: "evil.example.com", length: many.length });
    // The handshake header itself may be split.
    const tiny = records(message, [1, 1, 1, 1, 1]);
    expect(parseClientHello(tiny)).toMatchObject({ sni: "evil.example.com" });
  });

  it("waits for every record the handshake's length calls for", async () => {
    const many = records((await realHello("a.example.com")).subarray(5), Array(100).fill(50));
    for (const cut of [1, 5, 60, many.length - 1]) expect(parseClientHello(many.subarray(0, cut))).toEqual({ incomplete: true });
  });

  it("refuses what a server might read differently", () => {
    const ok = handshake(helloBody([sniExtension("a.example")]));
    expect(parseClientHello(records(ok))).toEqual({ sni: "a.example", length: ok.length + 5 });
    const refused: [string, Buffer][] = [
      [
        "two server_name extensions",
        records(
          handshake(helloBody([sniExtension("a.example"), extension(0x000a, Buffer.from([0, 2, 0, 0x1d])), sniExtension("evil.example")])),
        ),
      ],
      ["two host names", records(handshake(helloBody([sniExtension("a.example", "evil.example")])))],
      ["a non-ASCII name", records(handshake(helloBody([sniExtension("a.exam\u00e9ple")])))],
      ["an empty server_name", records(handshake(helloBody([extension(0, Buffer.alloc(0))])))],
      ["bytes after the message", Buffer.concat([Buffer.from([0x16, 3, 1]), u16(ok.length + 3), ok, Buffer.from([1, 2, 3])])],
      [
        "an alert between the records",
        Buffer.concat([records(ok, [10]).subarray(0, 15), Buffer.from([0x15, 3, 3, 0, 2, 2, 40]), records(ok, [10]).subarray(15)]),
      ],
      ["an empty record", Buffer.concat([Buffer.from([0x16, 3, 1, 0, 0]), records(ok)])],
      [
        "extension lengths that do not add up",
        records(handshake(Buffer.concat([helloBody([sniExtension("a.example")]), Buffer.from([0])]))),
      ],
      ["a record over 2^14 bytes", Buffer.concat([Buffer.from([0x16, 3, 1]), u16(16 * 1024 + 1)])],
      [
        "a ClientHello over the limit",
        records(handshake(helloBody([extension(0x0015, Buffer.alloc(MAX_CLIENT_HELLO))])), Array(8).fill(16 * 1024)),
      ],
      ["not a ClientHello", records(Buffer.from([2, 0, 0, 1, 0]))],
      ["a session id over 32 bytes", records(handshake(helloBody([sniExtension("a.example")], Buffer.alloc(33))))],
    ];
    for (const [why, bytes] of refused) expect(parseClientHello(bytes), why).toMatchObject({ error: expect.any(String) });
  });

  it("takes a ClientHello with no extensions as one without SNI", () => {
    expect(parseClientHello(records(handshake(helloBody(null))))).toMatchObject({ sni: null });
  });

  const hostName = fc.domain().filter((d) => d.length <= 253);
  const otherExtensions = fc.uniqueArray(fc.record({ type: fc.integer({ min: 1, max: 0xffff }), data: fc.uint8Array({ maxLength: 40 }) }), {
    selector: (e) => e.type,
    maxLength: 8,
  });

  it("property: however the records are cut, the name read is the one in the message", () => {
    fc.assert(
      fc.property(
        hostName,
        otherExtensions,
        fc.nat(),
        fc.array(fc.integer({ min: 1, max: 300 }), { maxLength: 40 }),
        (name, others, at, sizes) => {
          const exts: Buffer[] = others.map((e) => extension(e.type, Buffer.from(e.data)));
          exts.splice(at % (exts.length + 1), 0, sniExtension(name));
          const bytes = records(handshake(helloBody(exts)), sizes);
          expect(parseClientHello(bytes)).toEqual({ sni: name.toLowerCase(), length: bytes.length });
          // Every strict prefix waits for more: no decision is made on part of the message.
          expect(parseClientHello(bytes.subarray(0, at % bytes.length))).toEqual({ incomplete: true });
        },
      ),
    );
  });

  it("property: arbitrary bytes never throw and never yield a name that is not printable ASCII", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), (bytes) => {
        const r = parseClientHello(Buffer.from([0x16, 3, 1, ...bytes]));
        if ("sni" in r && r.sni !== null) expect(r.sni).toMatch(/^[\x21-\x7e]+$/);
      }),
      { numRuns: 5_000 },
    );
  });

  it("property: a valid message with one byte changed is read the same, without SNI, refused, or waits; never another name unless the change is inside it", () => {
    fc.assert(
      fc.property(hostName, fc.nat(), fc.integer({ min: 0, max: 255 }), (name, at, value) => {
        const bytes = records(handshake(helloBody([extension(0x000a, Buffer.from([0, 2, 0, 0x1d])), sniExtension(name)])), [30]);
        const i = at % bytes.length;
        const nameStart = bytes.length - name.length;
        const changed = Buffer.from(bytes);
        changed[i] = value;
        const r = parseClientHello(changed);
        // (A changed extension type can turn server_name into something else: then there is none.)
        if ("sni" in r && i < nameStart) expect([name.toLowerCase(), null]).toContain(r.sni);
      }),
      { numRuns: 3_000 },
    );
  });
});
