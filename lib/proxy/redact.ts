// Replaces reflected secrets with [REDACTED] in a streamed body, also when a secret straddles
// two chunks: a chunk's tail that could be the start of a secret is held back until the next
// chunk arrives. Only such a tail: a streamed answer (server-sent events from an API) reaches
// the sandbox event by event, not one event late.
export const REDACTED = "[REDACTED]";
const REDACTED_BYTES = Buffer.from(REDACTED);

/** Feed it the body chunk by chunk (`push`), then `end`; concatenated, the outputs are the redacted body. */
export class BodyRedactor {
  readonly #needles: Buffer[];
  readonly #hold: number;
  /** Bytes some needle starts with: a tail is held only from such a byte. */
  readonly #firstBytes = new Uint8Array(256);
  #carry: Buffer = Buffer.alloc(0);
  redactions = 0;

  constructor(needles: string[]) {
    this.#needles = [...new Set(needles.filter((n) => n.length > 0))].map((n) => Buffer.from(n)).sort((a, b) => b.length - a.length);
    this.#hold = Math.max(0, ...this.#needles.map((n) => n.length)) - 1;
    for (const n of this.#needles) this.#firstBytes[n[0]!] = 1;
  }

  push(chunk: Buffer): Buffer {
    const data = this.#carry.length ? Buffer.concat([this.#carry, chunk]) : chunk;
    const { out, consumed } = this.#scan(data, false);
    this.#carry = data.subarray(consumed);
    return out;
  }

  end(): Buffer {
    const { out } = this.#scan(this.#carry, true);
    this.#carry = Buffer.alloc(0);
    return out;
  }

  #scan(data: Buffer, final: boolean): { out: Buffer; consumed: number } {
    const parts: Buffer[] = [];
    let from = 0;
    let lastEnd = 0;
    // Where each needle next occurs (-1: nowhere), searched again only once passed: a chunk full
    // of reflections costs one pass per needle, not one per needle per reflection.
    const next = this.#needles.map((n) => data.indexOf(n));
    for (;;) {
      let best = -1;
      let bestNeedle: Buffer | null = null;
      for (let k = 0; k < this.#needles.length; k++) {
        const n = this.#needles[k]!;
        if (next[k]! >= 0 && next[k]! < from) next[k] = data.indexOf(n, from);
        const i = next[k]!;
        if (i >= 0 && (best < 0 || i < best)) {
          best = i;
          bestNeedle = n;
        }
      }
      if (best < 0 || !bestNeedle) break;
      parts.push(data.subarray(lastEnd, best), REDACTED_BYTES);
      this.redactions++;
      lastEnd = best + bestNeedle.length;
      from = lastEnd;
    }
    const cut = final ? data.length : this.#heldFrom(data, Math.max(lastEnd, data.length - this.#hold));
    parts.push(data.subarray(lastEnd, cut));
    return { out: Buffer.concat(parts), consumed: cut };
  }

  /** Where the longest tail of `data` from `from` on that is the beginning of a needle starts. */
  #heldFrom(data: Buffer, from: number): number {
    for (let start = from; start < data.length; start++) {
      if (!this.#firstBytes[data[start]!]) continue;
      const length = data.length - start;
      for (const n of this.#needles) if (length < n.length && data.compare(n, 0, length, start) === 0) return start;
    }
    return data.length;
  }
}

/** The same replacement for a header value. */
export function redactText(value: string, needles: string[]): string {
  let out = value;
  for (const n of [...needles].sort((a, b) => b.length - a.length)) if (n && out.includes(n)) out = out.split(n).join(REDACTED);
  return out;
}

/**
 * Redacts response headers in place: values as text; a header whose name carries the secret
 * (names arrive lower-cased, and "[REDACTED]" is not a valid name) is dropped.
 */
export function redactHeaders(headers: Record<string, string | string[]>, needles: string[]): void {
  const lowered = needles.filter(Boolean).map((n) => n.toLowerCase());
  for (const [name, value] of Object.entries(headers)) {
    if (lowered.some((n) => name.toLowerCase().includes(n))) delete headers[name];
    else headers[name] = Array.isArray(value) ? value.map((x) => redactText(x, needles)) : redactText(value, needles);
  }
}

// ── The spellings of a secret an upstream may send back ────────────────────────────────────

const UNRESERVED = /[A-Za-z0-9\-._~]/;

/** Percent-encoding of every byte of `value` that `keep` does not let through as it is. */
function percentEncode(value: string, keep: (ch: string) => boolean, opts: { lower?: boolean; plus?: boolean } = {}): string {
  let out = "";
  for (const ch of value) {
    if (opts.plus && ch === " ") out += "+";
    else if (keep(ch)) out += ch;
    else
      for (const b of Buffer.from(ch, "utf8"))
        out += "%" + (opts.lower ? b.toString(16).padStart(2, "0") : b.toString(16).toUpperCase().padStart(2, "0"));
  }
  return out;
}

/**
 * Base64 of the secret wherever it sits in a longer encoded text: for each of the three byte
 * alignments, the characters that depend on the secret's bytes alone. A reflected
 * `base64("Bearer " + secret)` or `base64(user + ":" + secret)` contains one of them.
 */
function base64Interiors(bytes: Buffer): string[] {
  const out: string[] = [];
  for (let k = 0; k < 3; k++) {
    const enc = Buffer.concat([Buffer.alloc(k), bytes])
      .toString("base64")
      .replace(/=+$/, "");
    const interior = enc.slice(Math.ceil((8 * k) / 6), Math.floor((8 * (k + bytes.length)) / 6));
    out.push(interior, interior.replaceAll("+", "-").replaceAll("/", "_"));
  }
  return out;
}

/** Derived binary encodings shorter than this would redact ordinary text by chance. */
const MIN_DERIVED = 6;

/**
 * Every spelling of `value` an upstream might echo back: as is; percent-encoded as JavaScript,
 * Python (`quote`, `quote_plus`), PHP (`urlencode`, `rawurlencode`) and Go (`QueryEscape`,
 * `PathEscape`) produce it, in upper and lower case, or every byte encoded; escaped in HTML
 * (named, decimal and hex entities) and in JSON (as JavaScript, PHP and Go escape, or every
 * character as \uXXXX); base64 (standard and URL-safe, at any alignment) and hex. Computed once
 * per request that needs it; the scan's cost grows with the number of distinct spellings, which
 * for a typical token (letters, digits, "_-") is about a dozen.
 */
export function encodedForms(value: string): string[] {
  const forms = new Set<string>([value]);
  const percent = [
    (ch: string) => /[A-Za-z0-9\-_.!~*'()]/.test(ch), // encodeURIComponent
    (ch: string) => UNRESERVED.test(ch), // rawurlencode, Python quote(safe=""), Go PathEscape-ish
    (ch: string) => ch === "/" || UNRESERVED.test(ch), // Python quote() with its default safe "/"
    (ch: string) => /[A-Za-z0-9\-_.]/.test(ch), // PHP urlencode (encodes "~")
    () => false, // every byte
  ];
  for (const keep of percent) {
    for (const lower of [false, true]) {
      forms.add(percentEncode(value, keep, { lower }));
      forms.add(percentEncode(value, keep, { lower, plus: true }));
    }
  }
  const html = (apos: string, quot: string) =>
    value.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': quot, "'": apos })[c]!);
  for (const apos of ["&#39;", "&#x27;", "&apos;", "&#039;", "'"]) for (const quot of ["&quot;", "&#34;", '"']) forms.add(html(apos, quot));
  const codePoints = [...value].map((c) => c.codePointAt(0)!);
  forms.add(codePoints.map((c) => `&#${c};`).join(""));
  forms.add(codePoints.map((c) => `&#x${c.toString(16)};`).join(""));
  forms.add(codePoints.map((c) => `&#x${c.toString(16).toUpperCase()};`).join(""));
  const json = JSON.stringify(value).slice(1, -1);
  forms.add(json);
  forms.add(json.replaceAll("/", "\\/"));
  forms.add(json.replace(/[^\x00-\x7f]/g, (c) => "\\u" + c.charCodeAt(0).toString(16).padStart(4, "0"))); // Python's ensure_ascii
  const goJson = json.replace(/[<>&\u2028\u2029]/g, (c) => "\\u" + c.charCodeAt(0).toString(16).padStart(4, "0"));
  forms.add(goJson);
  forms.add(goJson.replaceAll("/", "\\/"));
  const units = [...value].flatMap((c) => (c.length === 2 ? [c.charCodeAt(0), c.charCodeAt(1)] : [c.charCodeAt(0)]));
  forms.add(units.map((u) => "\\u" + u.toString(16).padStart(4, "0")).join(""));
  forms.add(units.map((u) => "\\u" + u.toString(16).toUpperCase().padStart(4, "0")).join(""));
  const bytes = Buffer.from(value, "utf8");
  const b64 = bytes.toString("base64");
  const b64url = b64.replaceAll("+", "-").replaceAll("/", "_");
  // Whole (padded or not) where the secret was encoded alone, then any alignment inside a longer text.
  for (const derived of [
    b64,
    b64url,
    b64url.replace(/=+$/, ""),
    ...base64Interiors(bytes),
    bytes.toString("hex"),
    bytes.toString("hex").toUpperCase(),
  ])
    if (derived.length >= MIN_DERIVED) forms.add(derived);
  forms.delete("");
  return [...forms];
}
