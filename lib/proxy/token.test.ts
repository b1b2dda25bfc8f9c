import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { upstreamRequestHeaders } from "./headers";
import { TokenBodyScan, tokenFinder, TokenInBody, tokenInRequest } from "./token";

const tokenArb = fc.stringMatching(/^[A-Za-z0-9_-]{43}$/).map((r) => `gs_${r}`);
const filler = fc.string({ maxLength: 16, unit: fc.constantFrom(...'abc xyz=&;:/%{}"') });
const everyByte = (s: string, lower: boolean) =>
  [...Buffer.from(s)].map((b) => "%" + (lower ? b.toString(16) : b.toString(16).toUpperCase()).padStart(2, "0")).join("");

const SPELLINGS: Record<string, (t: string) => string> = {
  "as is": (t) => t,
  "Basic x:token": (t) => `Basic ${Buffer.from(`x:${t}`).toString("base64")}`,
  "Basic, URL-encoded password": (t) => `Basic ${Buffer.from(`x:${everyByte(t, true)}`).toString("base64")}`,
  "every byte %XX": (t) => everyByte(t, false),
  "every byte %xx": (t) => everyByte(t, true),
  "encoded twice": (t) => everyByte(everyByte(t, false), true),
  encodeURIComponent: encodeURIComponent,
  "base64 inside a blob": (t) => Buffer.from(`HTTPS_PROXY=http://session:${t}@127.0.0.1:3128`).toString("base64"),
  hex: (t) => Buffer.from(t).toString("hex"),
  "JSON \\u escapes": (t) => [...t].map((c) => "\\u" + c.charCodeAt(0).toString(16).padStart(4, "0")).join(""),
  "a piece of it": (t) => t.slice(10, 24),
};

describe("finding the session token, however spelled", () => {
  it("property: every spelling, anywhere in a header value or URL, is found", () => {
    fc.assert(
      fc.property(tokenArb, fc.constantFrom(...Object.keys(SPELLINGS)), filler, filler, (token, how, before, after) => {
        expect(tokenFinder(token).carries(`${before}${SPELLINGS[how]!(token)}${after}`), how).toBe(true);
      }),
      { numRuns: 3000 },
    );
  });

  it("a piece after a '%' is found at every stage of decoding, not only the last (a counterexample fast-check found)", () => {
    const token = "gs__A0-AaA25aAa-AA-a_a__-A_aaa___---aA-a-_0A00";
    // "%25aAa…" decodes once to "%aAa-AA-a_a__" (a 12-character piece), and again to a byte that ate it.
    expect(tokenFinder(token).carries(`%${token.slice(10, 24)}`)).toBe(true);
  });

  it("property: text without the token (or a long piece of it) is not taken for it", () => {
    fc.assert(
      fc.property(tokenArb, fc.string({ maxLength: 200 }), (token, text) => {
        fc.pre(![...Array(token.length - 11).keys()].some((i) => text.includes(token.slice(i, i + 12))));
        expect(tokenFinder(token).carries(text)).toBe(false);
        expect(
          tokenInRequest(token, `https://h.example/${encodeURIComponent(text)}?q=${encodeURIComponent(text)}`, [
            "Accept",
            text,
            "X-Other",
            "1",
          ]),
        ).toBeNull();
      }),
      { numRuns: 2000 },
    );
  });

  it("header names carrying the token (lower-cased by Node) and values carrying a piece are not forwarded", () => {
    const token = "gs_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_AbCdE";
    const out = upstreamRequestHeaders(
      {
        [`x-${token.toLowerCase()}`]: "1",
        "x-half": token.slice(0, 23),
        authorization: `Basic ${Buffer.from(`u:${token}`).toString("base64")}`,
        accept: "*/*",
      },
      token,
    );
    expect(Object.keys(out).sort()).toEqual(["accept", "via"]);
  });

  it("a token split over query parameters, path segments or headers is refused; whole headers are left to be dropped", () => {
    const token = "gs_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_AbCdE";
    const pieces = token.match(/.{1,9}/g)!;
    expect(tokenInRequest(token, `https://h.example/a?${pieces.map((p, i) => `k${i}=${p}`).join("&")}`, [])).toBe(
      "split over its query parameters",
    );
    expect(tokenInRequest(token, `https://h.example/${pieces.join("/")}`, [])).toBe("split over its path segments");
    expect(
      tokenInRequest(
        token,
        "https://h.example/",
        pieces.flatMap((p, i) => [`X-${i}`, p]),
      ),
    ).toBe("split over its headers");
    expect(tokenInRequest(token, `https://h.example/?t=${everyByte(token, true)}`, [])).toBe("in its URL");
    expect(tokenInRequest(token, "https://h.example/", ["Proxy-Authorization", `Bearer ${token}`, "X-Whole", token])).toBeNull();
  });
});

describe("request bodies", () => {
  it("property: however the body is cut, the token is stopped before it leaves whole, and a clean body passes unchanged", () => {
    fc.assert(
      fc.property(
        tokenArb,
        filler,
        filler,
        fc.array(fc.integer({ min: 1, max: 13 }), { minLength: 1, maxLength: 10 }),
        fc.boolean(),
        (token, before, after, cuts, carries) => {
          const text = carries ? `${before}HTTPS_PROXY=http://session:${token}@127.0.0.1:3128${after}` : `${before}${after}`;
          const bytes = Buffer.from(text);
          const scan = new TokenBodyScan(token);
          let sent = "";
          let stopped = false;
          try {
            for (let i = 0, k = 0; i < bytes.length; k++) {
              const n = cuts[k % cuts.length]!;
              sent += scan.push(bytes.subarray(i, i + n)).toString();
              i += n;
            }
            sent += scan.end().toString();
          } catch (err) {
            expect(err).toBeInstanceOf(TokenInBody);
            stopped = true;
          }
          expect(stopped).toBe(carries);
          expect(sent.includes(token)).toBe(false);
          if (!carries) expect(sent).toBe(text);
        },
      ),
      { numRuns: 2000 },
    );
  });
});
