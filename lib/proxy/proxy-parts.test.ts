import net from "node:net";
import { Readable } from "node:stream";
import tls from "node:tls";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Secret } from "../vault";
import { parseClientHello } from "./client-hello";
import { downstreamResponseHeaders, upstreamRequestHeaders } from "./headers";
import { applyCredential, secretNeedles, type Inject } from "./inject";
import { BodyRedactor, redactHeaders, redactText } from "./redact";
import { Resolver } from "./resolve";
import { sessionToken } from "./token";

async function collect(chunks: Buffer[], needles: string[]): Promise<string> {
  const redactor = new BodyRedactor(needles);
  const out: Buffer[] = [];
  for await (const c of Readable.from(chunks)) out.push(redactor.push(c as Buffer));
  out.push(redactor.end());
  return Buffer.concat(out).toString("utf8");
}

describe("BodyRedactor", () => {
  it("property: however the body is chunked, no secret survives and nothing else changes", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.string({ minLength: 4, maxLength: 24, unit: fc.constantFrom(..."abcXYZ0123_-") }),
        fc.array(fc.string({ maxLength: 30, unit: fc.constantFrom(...'abc xyz{}":,') }), { minLength: 1, maxLength: 6 }),
        fc.array(fc.integer({ min: 1, max: 7 }), { minLength: 1, maxLength: 40 }),
        async (secret, pieces, cuts) => {
          const text = pieces.join(secret);
          const bytes = Buffer.from(text);
          const chunks: Buffer[] = [];
          let i = 0;
          for (let k = 0; i < bytes.length; k++) {
            const n = cuts[k % cuts.length]!;
            chunks.push(bytes.subarray(i, i + n));
            i += n;
          }
          const out = await collect(chunks, [secret]);
          expect(out).toBe(text.split(secret).join("[REDACTED]"));
          expect(out.includes(secret)).toBe(false);
        },
      ),
      { numRuns: 500 },
    );
  });

  it("property: what it holds back after a chunk is only ever the beginning of a secret", () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 4, maxLength: 24, unit: fc.constantFrom(..."abcXYZ0123_-") }),
        fc.array(fc.string({ maxLength: 30, unit: fc.constantFrom(...'abc xyz{}":,\n') }), { minLength: 1, maxLength: 8 }),
        (secret, chunks) => {
          const redactor = new BodyRedactor([secret]);
          let sent = "";
          let fed = "";
          for (const chunk of chunks) {
            fed += chunk;
            sent += redactor.push(Buffer.from(chunk)).toString();
            const redactedSoFar = fed.split(secret).join("[REDACTED]");
            expect(redactedSoFar.startsWith(sent)).toBe(true);
            const held = redactedSoFar.slice(sent.length);
            expect(held.length === 0 || (held.length < secret.length && secret.startsWith(held))).toBe(true);
          }
        },
      ),
      { numRuns: 500 },
    );
  });

  it("lets a stream of server-sent events through as each event arrives", () => {
    const redactor = new BodyRedactor(["ghp_FAKE_secret_value_0123456789", encodeURIComponent("ghp_FAKE_secret_value_0123456789")]);
    for (const event of ['data: {"delta":"Hel"}\n\n', 'data: {"delta":"lo"}\n\n', "event: done\ndata: {}\n\n"])
      expect(redactor.push(Buffer.from(event)).toString()).toBe(event);
    expect(redactor.push(Buffer.from("data: ghp_FA")).toString()).toBe("data: ");
    expect(redactor.push(Buffer.from("KE_secret_value_0123456789\n\n")).toString()).toBe("[REDACTED]\n\n");
  });

  it("prefers the longest needle and handles several", async () => {
    expect(await collect([Buffer.from("Basic Ym90OnNlY3JldA== and secret")], ["secret", "Ym90OnNlY3JldA=="])).toBe(
      "Basic [REDACTED] and [REDACTED]",
    );
    expect(redactText("x-token: abc123 abc123", ["abc123"])).toBe("x-token: [REDACTED] [REDACTED]");
  });

  it("redacts header values and drops a header whose name carries the secret", () => {
    const headers: Record<string, string | string[]> = {
      "x-echo": "Bearer Tok_FAKE1",
      "set-cookie": ["a=Tok_FAKE1", "b=1"],
      "x-tok_fake1": "1",
      "content-type": "text/plain",
    };
    redactHeaders(headers, ["Tok_FAKE1"]);
    expect(headers).toEqual({ "x-echo": "Bearer [REDACTED]", "set-cookie": ["a=[REDACTED]", "b=1"], "content-type": "text/plain" });
  });
});

describe("header hygiene", () => {
  it("drops hop-by-hop and Connection-named headers and anything carrying the token, and adds Gatehouse to Via", () => {
    const up = upstreamRequestHeaders(
      {
        connection: "keep-alive, x-hop",
        "x-hop": "1",
        "keep-alive": "5",
        te: "trailers",
        "proxy-authorization": "Bearer gs_tok",
        "x-copy": "gs_tok",
        via: "1.0 cache",
        accept: "*/*",
      },
      "gs_tok",
    );
    expect(up).toEqual({ via: "1.0 cache, 1.1 gatehouse", accept: "*/*" });
    expect(upstreamRequestHeaders({}, null)).toEqual({ via: "1.1 gatehouse" });
    const down = downstreamResponseHeaders({
      connection: "x-hop",
      "x-hop": "1",
      "transfer-encoding": "chunked",
      "x-gatehouse-outcome": "forged",
      via: ["1.1 a", "1.1 b"],
      "content-type": "text/plain",
    });
    expect(down).toEqual({ via: "1.1 a, 1.1 b, 1.1 gatehouse", "content-type": "text/plain" });
  });
});

describe("parseClientHello", () => {
  async function captureHello(servername?: string): Promise<Buffer> {
    return new Promise((resolve) => {
      const server = net.createServer((socket) => {
        socket.once("data", (d: Buffer) => {
          resolve(d);
          socket.destroy();
          server.close();
        });
      });
      server.listen(0, "127.0.0.1", () => {
        const port = (server.address() as net.AddressInfo).port;
        const c = tls.connect({ port, host: "127.0.0.1", servername, rejectUnauthorized: false });
        c.on("error", () => undefined);
      });
    });
  }

  it("reads the SNI from a real ClientHello, and its absence", async () => {
    expect(parseClientHello(await captureHello("api.github.com"))).toMatchObject({ sni: "api.github.com" });
    expect(parseClientHello(await captureHello(""))).toMatchObject({ sni: null });
  });

  it("asks for more bytes, and refuses what is not TLS", async () => {
    const hello = await captureHello("a.example.com");
    expect(parseClientHello(hello.subarray(0, 20))).toEqual({ incomplete: true });
    expect(parseClientHello(Buffer.from("GET / HTTP/1.1\r\n\r\n"))).toMatchObject({ error: expect.any(String) });
  });

  it("property: never throws on arbitrary bytes", () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => void parseClientHello(Buffer.from([0x16, 3, 1, ...bytes]))));
  });
});

describe("Resolver (SSRF guard)", () => {
  const lookup = async (host: string) => {
    const table: Record<string, { address: string; family: 4 | 6 }[]> = {
      "public.example": [{ address: "93.184.216.34", family: 4 }],
      "split.example": [
        { address: "93.184.216.34", family: 4 },
        { address: "10.0.0.5", family: 4 },
      ],
      "mapped.example": [{ address: "::ffff:169.254.169.254", family: 6 }],
    };
    if (!table[host]) throw Object.assign(new Error("nope"), { code: "ENOTFOUND" });
    return table[host]!;
  };

  it("refuses loopback, private, link-local, metadata and unique-local addresses", async () => {
    const r = new Resolver({ allowPrivate: [], overrides: {}, lookup });
    for (const ip of [
      "127.0.0.1",
      "10.1.2.3",
      "172.16.0.1",
      "192.168.1.1",
      "169.254.169.254",
      "100.64.0.1",
      "0.0.0.0",
      "::1",
      "fd00::1",
      "fe80::1",
      "::ffff:127.0.0.1",
      "::ffff:7f00:1",
    ]) {
      expect(r.permitted(ip), ip).toBe(false);
    }
    for (const ip of ["93.184.216.34", "2606:4700::1111"]) expect(r.permitted(ip), ip).toBe(true);
    expect(await r.resolve("public.example")).toMatchObject({ ok: true, address: { address: "93.184.216.34" } });
    expect(await r.resolve("split.example")).toMatchObject({ ok: false, code: "private_address" });
    expect(await r.resolve("mapped.example")).toMatchObject({ ok: false, code: "private_address" });
    expect(await r.resolve("missing.example")).toMatchObject({ ok: false, code: "dns_failed" });
  });

  it("judges an IPv6 address that carries an IPv4 one by that IPv4 address, in every spelling", () => {
    const r = new Resolver({ allowPrivate: [], overrides: {}, lookup });
    const hex = (a: number, b: number) => ((a << 8) | b).toString(16);
    const forms = (v4: string): string[] => {
      const [a, b, c, d] = v4.split(".").map(Number) as [number, number, number, number];
      return [
        `::ffff:${v4}`,
        `::ffff:${hex(a, b)}:${hex(c, d)}`,
        `0:0:0:0:0:FFFF:${hex(a, b)}:${hex(c, d)}`,
        `::ffff:0:${v4}`,
        `::${v4}`,
        `::${hex(a, b)}:${hex(c, d)}`,
        `64:ff9b::${v4}`,
        `64:ff9b::${hex(a, b)}:${hex(c, d)}`,
        `2002:${hex(a, b)}:${hex(c, d)}::`,
        `2002:${hex(a, b)}:${hex(c, d)}:1:2:3:4:5`,
      ];
    };
    const v4 = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((t) => t.join("."));
    fc.assert(
      fc.property(v4, (address) => {
        for (const form of forms(address)) expect(r.permitted(form), `${form} for ${address}`).toBe(r.permitted(address));
      }),
      { numRuns: 500 },
    );
    for (const form of [...forms("127.0.0.1"), ...forms("169.254.169.254"), ...forms("10.0.0.1")])
      expect(r.permitted(form), form).toBe(false);
    // Teredo hides its endpoints and local-use NAT64 maps to anything: refused outright.
    for (const ip of ["2001:0:4136:e378:8000:63bf:3fff:fdd2", "64:ff9b:1::a00:1", "fec0::1"]) expect(r.permitted(ip), ip).toBe(false);
    expect(r.permitted("2002:5db8:d822::1")).toBe(true); // 6to4 of 93.184.216.34
  });

  it("gives up on a lookup that does not answer within its timeout, and answers the next one", async () => {
    let calls = 0;
    const hanging = async (host: string) => (calls++ === 0 ? new Promise<never>(() => {}) : lookup(host));
    const r = new Resolver({ allowPrivate: [], overrides: {}, lookup: hanging, timeoutMs: 200 });
    const started = Date.now();
    expect(await r.resolve("public.example")).toEqual({
      ok: false,
      code: "dns_failed",
      message: "public.example did not resolve within 0.2 s",
    });
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);
    expect(await r.resolve("public.example")).toMatchObject({ ok: true, address: { address: "93.184.216.34" } });
  });

  it("lets GATEHOUSE_ALLOW_PRIVATE ranges through and honours static overrides", async () => {
    const r = new Resolver({ allowPrivate: ["127.0.0.0/8"], overrides: { "svc.internal": "127.0.0.9" }, lookup });
    expect(r.permitted("127.0.0.1")).toBe(true);
    expect(r.permitted("10.0.0.1")).toBe(false);
    expect(await r.resolve("svc.internal")).toMatchObject({ ok: true, address: { address: "127.0.0.9" } });
    expect(() => new Resolver({ allowPrivate: ["not-a-cidr"], overrides: {} })).toThrow(/CIDR/);
  });

  it("answers without waiting only for a host it checked and permitted, never for a refused one", async () => {
    const r = new Resolver({ allowPrivate: [], overrides: {}, lookup });
    expect(r.resolveCached("public.example")).toBeNull();
    await r.resolve("public.example");
    expect(r.resolveCached("public.example")).toMatchObject({ address: "93.184.216.34" });
    await r.resolve("split.example");
    expect(r.resolveCached("split.example")).toBeNull();
  });
});

describe("session token from Proxy-Authorization", () => {
  it("reads Basic (password) and Bearer, nothing else", () => {
    expect(sessionToken(`Basic ${Buffer.from("session:gs_abc").toString("base64")}`)).toBe("gs_abc");
    expect(sessionToken("Bearer gs_abc")).toBe("gs_abc");
    expect(sessionToken("Digest x")).toBeNull();
    expect(sessionToken(`Basic ${Buffer.from("nopassword").toString("base64")}`)).toBeNull();
    expect(sessionToken(undefined)).toBeNull();
  });
});

describe("attaching a credential", () => {
  const injects: Inject[] = [{ type: "bearer" }, { type: "basic", username: "bot" }, { type: "header", name: "X-Api-Key" }];
  const headerName = (inject: Inject) => (inject.type === "header" ? inject.name.toLowerCase() : "authorization");
  // Every letter-case spelling of a name, as a sandbox might send it.
  const caseVariant = (name: string) =>
    fc
      .array(fc.boolean(), { minLength: name.length, maxLength: name.length })
      .map((upper) => [...name].map((ch, i) => (upper[i] ? ch.toUpperCase() : ch)).join(""));

  it("property: whatever the sandbox sent under the credential's header, in any case, only the credential goes out; nothing else changes", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...injects),
        fc.dictionary(fc.stringMatching(/^[a-z][a-z0-9-]{0,15}$/), fc.string({ maxLength: 20 })),
        fc.array(fc.constantFrom("authorization", "x-api-key").chain(caseVariant), { maxLength: 4 }),
        (inject, others, forged) => {
          const name = headerName(inject);
          const headers: Record<string, string | string[]> = { ...others };
          for (const k of forged) headers[k] = "sandbox-forged";
          const before = { ...headers };
          applyCredential(headers, inject, new Secret("fake-secret-value"));
          const matching = Object.keys(headers).filter((k) => k.toLowerCase() === name);
          expect(matching).toEqual([name]);
          expect(headers[name]).toContain(
            inject.type === "basic" ? Buffer.from("bot:fake-secret-value").toString("base64") : "fake-secret-value",
          );
          for (const [k, v] of Object.entries(before)) if (k.toLowerCase() !== name) expect(headers[k]).toBe(v);
        },
      ),
    );
  });

  it("property: a secret echoed inside a JSON string, however it had to be escaped, is redacted", () => {
    fc.assert(
      fc.property(fc.constantFrom(...injects), fc.string({ minLength: 8, maxLength: 40 }), (inject, value) => {
        const needles = secretNeedles(inject, new Secret(value));
        for (const body of [JSON.stringify({ echo: value }), JSON.stringify({ echo: value }).replaceAll("/", "\\/")]) {
          const out = redactText(body, needles);
          expect(JSON.parse(out.replaceAll("\\/", "/")).echo, body).toBe("[REDACTED]");
        }
      }),
    );
  });

  it("property: the header a credential goes out in, reflected back, is redacted for every kind of credential", () => {
    fc.assert(
      fc.property(fc.constantFrom(...injects), fc.stringMatching(/^[A-Za-z0-9._~+/=-]{8,64}$/), (inject, value) => {
        const headers: Record<string, string | string[]> = {};
        const secret = new Secret(value);
        applyCredential(headers, inject, secret);
        const sent = String(headers[headerName(inject)]);
        const reflected = redactText(`echo: ${sent} / ${encodeURIComponent(sent)}`, secretNeedles(inject, secret));
        expect(reflected).not.toContain(value);
        expect(reflected).not.toContain(encodeURIComponent(value));
        if (inject.type === "basic") expect(reflected).not.toContain(Buffer.from(`bot:${value}`).toString("base64"));
      }),
    );
  });
});
