// Host and path normalisation. Pure: no I/O. The canonical spelling decided here is the one
// used for matching, attaching, dialling and the audit log.
// Browser-safe on purpose (WHATWG URL only): the dashboard validates host patterns as you type
// with the same code the proxy matches with.

export type Scheme = "http" | "https";

export function defaultPort(scheme: Scheme): number {
  return scheme === "https" ? 443 : 80;
}

const HOST_CHARS = /^[a-z0-9._-]+$/;
const IPV4 = /^\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}$/;

/**
 * Lower case, trailing dot removed, IDN to punycode, IPv4 in dotted-quad form (the WHATWG host
 * parser also reads "0x7f.1" and "2130706433" as 127.0.0.1), IPv6 without brackets, compressed.
 * Returns null for anything that is not a valid host.
 */
export function canonicalHost(input: string): string | null {
  if (input.length === 0 || input.length > 300) return null;
  // Most names need no URL parse (~3 µs a request): see PLAIN_NAME.
  const plain = input.endsWith(".") ? input.slice(0, -1) : input;
  if (plain.length <= 253 && PLAIN_NAME.test(plain) && labelsFit(plain)) return plain.toLowerCase();
  return canonicalHostWhatwg(input);
}

/**
 * An ASCII name that the WHATWG host parser only lower-cases: labels of letters and digits
 * joined by single hyphens (no "xn--" or other label the IDNA step would check), and a last
 * label that starts with a letter (one that is a number, decimal or "0x…", makes the whole host
 * an IPv4 address). Anything else takes canonicalHostWhatwg; the two agree (normalize.test.ts).
 */
const PLAIN_NAME = /^(?:[a-z0-9]+(?:-[a-z0-9]+)*\.)*[a-z][a-z0-9]*(?:-[a-z0-9]+)*$/i;

/** RFC 1035 §2.3.4: 63 octets a label. */
function labelsFit(name: string): boolean {
  let start = 0;
  for (let dot = name.indexOf("."); dot >= 0; dot = name.indexOf(".", start)) {
    if (dot - start > 63) return false;
    start = dot + 1;
  }
  return name.length - start <= 63;
}

/** canonicalHost through the WHATWG URL parser: the reference for every spelling. */
export function canonicalHostWhatwg(input: string): string | null {
  if (input.length === 0 || input.length > 300) return null;
  let host = input;
  const bracketed = host.startsWith("[") && host.endsWith("]");
  if (bracketed || host.includes(":")) {
    if (bracketed) host = host.slice(1, -1);
    if (!/^[0-9A-Fa-f:.]+$/.test(host) || !host.includes(":")) return null;
    try {
      return new URL(`http://[${host}]/`).hostname.slice(1, -1);
    } catch {
      return null;
    }
  }
  if (/[\s/\\?#@[\]%:]/.test(host)) return null;
  if (host.endsWith(".")) host = host.slice(0, -1);
  if (host === "" || host.endsWith(".")) return null; // "a.." is not a name
  let normalised: string;
  try {
    normalised = new URL(`http://${host}/`).hostname;
  } catch {
    return null;
  }
  if (normalised.endsWith(".")) normalised = normalised.slice(0, -1);
  if (!HOST_CHARS.test(normalised)) return null;
  // RFC 1035 §2.3.4: 63 octets a label, 253 in all (without the root's trailing dot).
  if (normalised.length > 253 || normalised.split(".").some((label) => label.length === 0 || label.length > 63)) return null;
  return normalised;
}

/** For canonical hosts: an IPv4 dotted quad or an IPv6 address. */
export function isIpLiteral(host: string): boolean {
  return IPV4.test(host) || host.includes(":");
}

const UNRESERVED = /[A-Za-z0-9\-._~]/;

export type NormalisedPath = {
  path: string;
  /** %2F, %5C or a raw backslash: never fits a path narrowing. */
  encodedSeparator: boolean;
  /**
   * Why servers may read the raw path differently from `path` (null: they may not): an empty
   * segment (nginx and Apache merge slashes before resolving dots), a dot segment in any
   * spelling, a ";" parameter (Tomcat, Spring and Jetty strip them), an encoded separator, "?",
   * "#" or control character, percent-encoding that is not UTF-8 (overlong dots), or a character
   * Unicode compatibility normalisation turns into one of these. Such a path never fits a narrowing.
   */
  ambiguous: string | null;
};

/**
 * RFC 3986 normalisation of a path (no query): percent-encodings of unreserved characters
 * decoded, other encodings upper-cased, dot segments resolved. Returns null for malformed
 * percent-encoding.
 */
export function normalisePath(raw: string): NormalisedPath | null {
  // Most paths have nothing to normalise and nothing ambiguous: no escapes, no dot or empty
  // segments, no parameters, no backslash.
  if (raw.startsWith("/") && !/[%\\;]|\/[/.]|[^\x21-\x7e]/.test(raw)) return { path: raw, encodedSeparator: false, ambiguous: null };
  let encodedSeparator = raw.includes("\\");
  let decoded = "";
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i]!;
    if (c !== "%") {
      decoded += c;
      continue;
    }
    const hex = raw.slice(i + 1, i + 3);
    if (!/^[0-9A-Fa-f]{2}$/.test(hex)) return null;
    const ch = String.fromCharCode(parseInt(hex, 16));
    if (UNRESERVED.test(ch)) decoded += ch;
    else {
      const upper = hex.toUpperCase();
      if (upper === "2F" || upper === "5C") encodedSeparator = true;
      decoded += "%" + upper;
    }
    i += 2;
  }
  const rooted = raw.startsWith("/") ? raw : "/" + raw;
  const path = removeDotSegments(decoded.startsWith("/") ? decoded : "/" + decoded);
  return { path, encodedSeparator, ambiguous: encodedSeparator ? "an encoded slash or backslash" : pathAmbiguity(rooted) };
}

/** Why some server may read this segment differently from its RFC 3986 reading, or null. */
function segmentAmbiguity(seg: string, last: boolean): string | null {
  if (seg === "") return last ? null : "an empty segment (//)";
  const decoded = decodeFully(seg);
  if (decoded === null) return "percent-encoding that is not UTF-8";
  const forms = /[^\x00-\x7f]/.test(decoded) ? [decoded, decoded.normalize("NFKC")] : [decoded];
  for (const text of forms) {
    if (/^[.\s]*\.[.\s]*$/.test(text)) return "a dot segment (. or .. in some spelling)";
    if (text.includes(";")) return "a ';' parameter";
    if (/[/\\]/.test(text)) return "an encoded slash or backslash";
    if (/[?#]/.test(text)) return "an encoded '?' or '#'";
    if (/[\x00-\x1f\x7f]/.test(text)) return "a control character";
  }
  return null;
}

function pathAmbiguity(rooted: string): string | null {
  const segments = rooted.split("/");
  for (let i = 1; i < segments.length; i++) {
    const why = segmentAmbiguity(segments[i]!, i === segments.length - 1);
    if (why) return why;
  }
  return null;
}

const UTF8 = new TextDecoder("utf-8", { fatal: true });
const UTF8_OUT = new TextEncoder();

/**
 * Percent-decoding repeated until nothing changes (at most four rounds: a server that decodes
 * twice reads "%252e" as "."), as UTF-8; null if the bytes are not UTF-8 (such as the overlong
 * "%c0%ae", which old decoders read as ".").
 */
function decodeFully(seg: string): string | null {
  let text = seg;
  for (let round = 0; round < 4 && /%[0-9A-Fa-f]{2}/.test(text); round++) {
    const bytes: number[] = [];
    for (const part of text.split(/(%[0-9A-Fa-f]{2})/)) {
      if (part.length === 3 && part[0] === "%") bytes.push(parseInt(part.slice(1), 16));
      else for (const b of UTF8_OUT.encode(part)) bytes.push(b);
    }
    try {
      text = UTF8.decode(new Uint8Array(bytes));
    } catch {
      return null;
    }
  }
  return text;
}

/** RFC 3986 §5.2.4, on a path that starts with "/". */
export function removeDotSegments(path: string): string {
  const segments = path.split("/").slice(1);
  const out: string[] = [];
  for (let i = 0; i < segments.length; i++) {
    const seg = segments[i]!;
    const last = i === segments.length - 1;
    if (seg === ".") {
      if (last) out.push("");
    } else if (seg === "..") {
      out.pop();
      if (last) out.push("");
    } else {
      out.push(seg);
    }
  }
  return "/" + out.join("/");
}

/** Segment-boundary prefix match: "/repos/acme" fits "/repos/acme/x", never "/repos/acme-evil". */
export function pathHasPrefix(path: string, prefix: string): boolean {
  if (prefix === "/" || prefix === "") return true;
  const base = prefix.endsWith("/") ? prefix.slice(0, -1) : prefix;
  return path === base || path.startsWith(base + "/");
}

export const READ_ONLY_METHODS: ReadonlySet<string> = new Set(["GET", "HEAD", "OPTIONS"]);

export const METHOD_OVERRIDE_HEADERS = ["x-http-method-override", "x-http-method", "x-method-override"] as const;

/**
 * The path that goes upstream with a credential: exactly the one that was decided on, so that no
 * server reads the raw spelling its own way. A malformed path keeps its spelling (it fits no
 * narrowing, so only a connection without one attaches to it).
 */
export function decidedPath(raw: string): string {
  return normalisePath(raw)?.path ?? raw;
}
