// The session token from Proxy-Authorization: Basic (the password; any username) or Bearer.
// A sandbox sends the same header on every request, so the decoding is remembered.
import { BodyRedactor, encodedForms } from "./redact";

const decoded = new Map<string, string | null>();
const REMEMBERED = 1024;

export function sessionToken(header: string | undefined): string | null {
  if (!header) return null;
  let token = decoded.get(header);
  if (token === undefined) {
    token = decode(header);
    if (decoded.size >= REMEMBERED) decoded.clear();
    decoded.set(header, token);
  }
  return token;
}

function decode(header: string): string | null {
  const [scheme, value] = header.trim().split(/\s+/, 2);
  if (!scheme || !value) return null;
  if (/^bearer$/i.test(scheme)) return value;
  if (/^basic$/i.test(scheme)) {
    const text = Buffer.from(value, "base64").toString("utf8");
    const colon = text.indexOf(":");
    return colon >= 0 && colon < text.length - 1 ? text.slice(colon + 1) : null;
  }
  return null;
}

// ── The token must never reach an upstream, however the sandbox spelled it ─────────────────

/** A run this long of the token's characters is the token's (256 random bits): never chance. */
const FRAGMENT = 12;
const finders = new Map<string, TokenFinder>();

const DECODE_ROUNDS = 3;
const PERCENT_ESCAPE = /%([0-9A-Fa-f]{2})/g;
const fromHex = (_: string, h: string) => String.fromCharCode(parseInt(h, 16));

/**
 * The text as each round of %xx-decoding (any case, as Latin-1: the token is ASCII) leaves it:
 * the text itself, then up to three rounds (a client may encode twice). Every stage is what some
 * upstream may read, and a later round can eat the token's own characters ("%25" + "aA…" decodes
 * to "%aA…", then to one byte), so each stage is searched, not only the last.
 */
function decodingStages(text: string): string[] {
  const stages = [text];
  for (let round = 0, out = text; round < DECODE_ROUNDS && out.includes("%"); round++) {
    const next = out.replace(PERCENT_ESCAPE, fromHex);
    if (next === out) break;
    stages.push((out = next));
  }
  return stages;
}

/** Finds a session token in request text: as is, in any of `encodedForms`, percent-decoded, Basic-decoded, or a piece of it. */
export class TokenFinder {
  readonly token: string;
  readonly lowerToken: string;
  /** The token's spellings (as redaction knows them): for scanning bodies, where only whole spellings are sought. */
  readonly needles: string[];
  readonly #fragments: Set<string>;
  readonly #lowerFragments: Set<string>;
  /** The spellings other than the token itself, and the length of the shortest. */
  readonly #derived: string[];
  readonly #shortestDerived: number;
  /**
   * A run of the token's characters as long as a fragment: text without one holds no piece of
   * the token, so most header values are passed over after one linear scan.
   */
  readonly #run: RegExp | null;

  constructor(token: string) {
    this.token = token;
    this.lowerToken = token.toLowerCase();
    this.needles = encodedForms(token);
    const fragments = new Set<string>();
    if (token.length <= FRAGMENT) fragments.add(token);
    else for (let i = 0; i + FRAGMENT <= token.length; i++) fragments.add(token.slice(i, i + FRAGMENT));
    this.#fragments = fragments;
    this.#lowerFragments = new Set([...fragments].map((f) => f.toLowerCase()));
    this.#derived = this.needles.filter((n) => n !== token);
    this.#shortestDerived = Math.min(...this.#derived.map((n) => n.length));
    this.#run = /^[A-Za-z0-9_-]+$/.test(token) ? new RegExp(`[A-Za-z0-9_-]{${Math.min(FRAGMENT, token.length)},}`, "g") : null;
  }

  /** Whether `text` holds a piece of the token: each long enough run of its characters, window by window. */
  #hasFragment(text: string, fragments: Set<string>): boolean {
    const size = Math.min(FRAGMENT, this.token.length);
    if (!this.#run) {
      for (const f of fragments) if (text.includes(f)) return true;
      return false;
    }
    this.#run.lastIndex = 0;
    for (let m = this.#run.exec(text); m; m = this.#run.exec(text)) {
      const run = m[0];
      for (let i = 0; i + size <= run.length; i++) if (fragments.has(run.slice(i, i + size))) return true;
    }
    return false;
  }

  carries(text: string): boolean {
    if (text.length < Math.min(FRAGMENT, this.token.length)) return false;
    if (
      text.includes("%")
        ? decodingStages(text).some((t) => this.#hasFragment(t, this.#fragments))
        : this.#hasFragment(text, this.#fragments)
    )
      return true;
    if (text.length >= this.#shortestDerived) for (const n of this.#derived) if (text.includes(n)) return true;
    // Basic with the token as its password, percent-encoded or not (userinfo copied from a URL).
    if (/basic/i.test(text))
      for (const m of text.matchAll(/basic\s+([A-Za-z0-9+/_-]+=*)/gi))
        if (decodingStages(Buffer.from(m[1]!, "base64").toString("latin1")).some((t) => t.includes(this.token))) return true;
    return false;
  }

  /** For header names, which arrive lower-cased. */
  carriesIgnoringCase(text: string): boolean {
    if (!text.includes("%")) return this.#hasFragment(text.toLowerCase(), this.#lowerFragments);
    return decodingStages(text).some((t) => this.#hasFragment(t.toLowerCase(), this.#lowerFragments));
  }
}

export function tokenFinder(token: string): TokenFinder {
  let finder = finders.get(token);
  if (!finder) {
    if (finders.size >= REMEMBERED) finders.clear();
    finders.set(token, (finder = new TokenFinder(token)));
  }
  return finder;
}

/**
 * Where a request would carry the session token upstream in a way that dropping a header cannot
 * stop (its URL; a token split over path segments, query parameters or headers), or null.
 * Headers that carry it whole or in pieces are dropped by `upstreamRequestHeaders`.
 */
export function tokenInRequest(token: string, url: string, rawHeaders: string[]): string | null {
  const finder = tokenFinder(token);
  if (finder.carries(url)) return "in its URL";
  // Percent-decoding only shortens a text: one shorter than the token cannot spell it (the
  // common case, checked before any text is built).
  const q = url.indexOf("?");
  const pathEnd = q < 0 ? url.length : q;
  const scheme = url.indexOf("://");
  const pathStart = scheme < 0 ? 0 : url.indexOf("/", scheme + 3) < 0 ? pathEnd : Math.min(url.indexOf("/", scheme + 3), pathEnd);
  if (pathEnd - pathStart >= token.length && spells(url.slice(pathStart, pathEnd).replaceAll("/", ""), token))
    return "split over its path segments";
  if (q >= 0 && url.length - q - 1 >= token.length) {
    // The values side by side, names and separators taken out.
    const values = url.slice(q + 1).replace(/(?:^|[&;])[^=&;]*(?:=|(?=[&;]|$))/g, "");
    if (spells(values, token)) return "split over its query parameters";
  }
  // Headers that carry it on their own are dropped on the way out; the rest must not spell it
  // together. Checked on all of them first: the common case (no token anywhere) costs one join.
  if (spelledOverHeaders(finder, rawHeaders, false) && spelledOverHeaders(finder, rawHeaders, true)) return "split over its headers";
  return null;
}

/**
 * Whether the headers (but Proxy-Authorization) spell the token with their values, or their
 * names, side by side; `skipCarriers`: leaving out those that carry it on their own (dropped).
 */
function spelledOverHeaders(finder: TokenFinder, rawHeaders: string[], skipCarriers: boolean): boolean {
  let names = "";
  let values = "";
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!;
    const value = rawHeaders[i + 1]!;
    if (name.length === 19 && name.toLowerCase() === "proxy-authorization") continue;
    if (skipCarriers && (finder.carriesIgnoringCase(name) || finder.carries(value))) continue;
    names += name;
    values += value;
  }
  const length = finder.token.length;
  if (values.length >= length && spells(values, finder.token)) return true;
  return names.length >= length && spells(names, finder.lowerToken, true);
}

/** Whether `text`, as is or at any stage of percent-decoding, holds `token` whole (`lowerCase`: compared lower-cased). */
function spells(text: string, token: string, lowerCase = false): boolean {
  const has = (t: string) => (lowerCase ? t.toLowerCase() : t).includes(token);
  return text.includes("%") ? decodingStages(text).some(has) : has(text);
}

/** Thrown into the upstream request when its body carries the token; answered as token_in_request. */
export class TokenInBody extends Error {
  readonly code = "EGATEHOUSE_TOKEN_IN_BODY";
  constructor() {
    super("the request body carries the session token; it would leak upstream");
  }
}

/**
 * Scans a request body on its way upstream for the token's spellings, holding back only a tail
 * that could begin one (as BodyRedactor does), so the token never leaves whole. The cost is one
 * search per spelling per chunk, whatever the body's size.
 */
export class TokenBodyScan {
  readonly #scanner: BodyRedactor;

  constructor(token: string) {
    this.#scanner = new BodyRedactor(tokenFinder(token).needles);
  }

  push(chunk: Buffer): Buffer {
    const out = this.#scanner.push(chunk);
    if (this.#scanner.redactions > 0) throw new TokenInBody();
    return out;
  }

  end(): Buffer {
    const out = this.#scanner.end();
    if (this.#scanner.redactions > 0) throw new TokenInBody();
    return out;
  }
}
