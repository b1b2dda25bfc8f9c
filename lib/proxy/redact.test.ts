import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Secret } from "../vault";
import { redactionNeedles, secretNeedles } from "./inject";
import { BodyRedactor, encodedForms } from "./redact";
import { otherTransferCoding } from "./relay";

function redact(text: string, needles: string[], cuts: number[]): string {
  const redactor = new BodyRedactor(needles);
  const bytes = Buffer.from(text);
  const out: Buffer[] = [];
  for (let i = 0, k = 0; i < bytes.length; k++) {
    const n = cuts[k % cuts.length]!;
    out.push(redactor.push(bytes.subarray(i, i + n)));
    i += n;
  }
  out.push(redactor.end());
  return Buffer.concat(out).toString("utf8");
}

// The encoders as other languages' standard libraries write them, built independently of ours.
const rfc3986 = (s: string) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => "%" + c.charCodeAt(0).toString(16).toUpperCase());
const TEXT_ENCODERS: Record<string, (s: string) => string> = {
  "JavaScript encodeURIComponent": encodeURIComponent,
  "Python quote(safe='')": rfc3986,
  "Python quote()": (s) => rfc3986(s).replaceAll("%2F", "/"),
  "Python quote_plus / Go QueryEscape": (s) => rfc3986(s).replaceAll("%20", "+"),
  "PHP urlencode": (s) => rfc3986(s).replaceAll("~", "%7E").replaceAll("%20", "+"),
  "lower-case %xx": (s) => rfc3986(s).replace(/%[0-9A-F]{2}/g, (m) => m.toLowerCase()),
  "every byte %XX": (s) => [...Buffer.from(s)].map((b) => "%" + b.toString(16).padStart(2, "0").toUpperCase()).join(""),
  "Python html.escape": (s) =>
    s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;").replace(/'/g, "&#x27;"),
  "PHP htmlspecialchars": (s) =>
    s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;").replace(/'/g, "&#039;"),
  "decimal entities": (s) => [...s].map((c) => `&#${c.codePointAt(0)};`).join(""),
  "JSON.stringify": (s) => JSON.stringify(s).slice(1, -1),
  "Go encoding/json": (s) =>
    JSON.stringify(s)
      .slice(1, -1)
      .replace(/[<>&]/g, (c) => "\\u00" + c.charCodeAt(0).toString(16)),
  "Python json.dumps": (s) =>
    JSON.stringify(s)
      .slice(1, -1)
      .replace(/[^\x00-\x7f]/g, (c) => "\\u" + c.charCodeAt(0).toString(16).padStart(4, "0")),
  "every char \\uXXXX": (s) =>
    Array.from({ length: s.length }, (_, i) => "\\u" + s.charCodeAt(i).toString(16).toUpperCase().padStart(4, "0")).join(""),
  hex: (s) => Buffer.from(s).toString("hex"),
  HEX: (s) => Buffer.from(s).toString("hex").toUpperCase(),
};

const secretArb = fc.oneof(
  fc.string({ minLength: 8, maxLength: 40 }),
  fc.string({ minLength: 8, maxLength: 24, unit: "grapheme" }),
  fc.stringMatching(/^[A-Za-z0-9_-]{20,40}$/),
);
const filler = fc.string({ maxLength: 20, unit: fc.constantFrom(...'abc xyz{}":,=&%\\\n') });
const cuts = fc.array(fc.integer({ min: 1, max: 9 }), { minLength: 1, maxLength: 20 });

describe("redaction knows the secret's encodings", () => {
  it("property: a secret encoded as other languages encode it, anywhere in a body cut anyhow, never survives", () => {
    fc.assert(
      fc.property(secretArb, fc.constantFrom(...Object.keys(TEXT_ENCODERS)), filler, filler, cuts, (value, name, before, after, c) => {
        const encoded = TEXT_ENCODERS[name]!(value);
        const out = redact(`${before}${encoded}${after}`, secretNeedles({ type: "bearer" }, new Secret(value)), c);
        expect(out, name).not.toContain(encoded);
        expect(out, name).toContain("[REDACTED]");
      }),
      { numRuns: 3000 },
    );
  });

  it("property: base64 of any text holding the secret (Bearer value, user:secret, a blob), at any alignment, cannot be decoded back to it", () => {
    fc.assert(
      fc.property(
        secretArb,
        fc.uint8Array({ maxLength: 7 }),
        fc.uint8Array({ maxLength: 7 }),
        fc.boolean(),
        cuts,
        (value, pre, post, urlSafe, c) => {
          const plain = Buffer.concat([Buffer.from(pre), Buffer.from(value), Buffer.from(post)]);
          let encoded = plain.toString("base64");
          if (urlSafe) encoded = encoded.replaceAll("+", "-").replaceAll("/", "_");
          const out = redact(`data: ${encoded}\n`, secretNeedles({ type: "bearer" }, new Secret(value)), c);
          expect(out).toContain("[REDACTED]");
          for (const piece of out.split("[REDACTED]")) {
            const decoded = Buffer.from(piece.replace(/^data: /, "").trim(), "base64");
            expect(decoded.includes(Buffer.from(value))).toBe(false);
          }
        },
      ),
      { numRuns: 3000 },
    );
  });

  it("the needles are computed once per request; a typical token has about a dozen distinct spellings", () => {
    const forms = encodedForms("ghp_FAKE0000aaaaBBBBccccDDDDeeee1111");
    expect(forms.length).toBeLessThanOrEqual(16);
    expect(new Set(forms).size).toBe(forms.length);
    // Every derived binary spelling is long enough not to match ordinary text by chance.
    expect(encodedForms("abc").every((f) => f.length >= 3)).toBe(true);
  });
});

describe("answers from Allowed websites", () => {
  it("needles cover every connection of the host, reusing the attached secret and opening each other one once", () => {
    const opened: string[] = [];
    const open = (id: string) => (opened.push(id), id === "b/none" ? null : new Secret(`fake-secret-of-${id}`));
    const needles = redactionNeedles(
      [
        { identity: "b/attached", inject: { type: "bearer" } },
        { identity: "b/other", inject: { type: "header", name: "X-Key" } },
        { identity: "b/none", inject: { type: "bearer" } },
        { identity: "b/other", inject: { type: "header", name: "X-Key" } },
      ],
      { identity: "b/attached", secret: new Secret("fake-attached-secret") },
      open,
    );
    expect(opened).toEqual(["b/other", "b/none"]);
    expect(needles).toContain("fake-attached-secret");
    expect(needles).toContain("fake-secret-of-b/other");
    expect(redactionNeedles([], null, open)).toEqual([]);
  });
});

describe("transfer codings", () => {
  it.each([
    [undefined, null],
    ["chunked", null],
    ["Chunked", null],
    ["gzip, chunked", "gzip"],
    [" identity ,chunked", "identity"],
    [["deflate", "chunked"], "deflate"],
    ["chunked, gzip", "gzip"],
  ] as const)("%j → %j", (header, coding) => expect(otherTransferCoding(header as string | string[] | undefined)).toBe(coding));
});
