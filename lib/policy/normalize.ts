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
  if (normalised.split(".").some((label) => label.length === 0 || label.length > 63)) return null;
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
};

/**
 * RFC 3986 normalisation of a path (no query): percent-encodings of unreserved characters
 * decoded, other encodings upper-cased, dot segments resolved. Returns null for malformed
 * percent-encoding.
 */
export function normalisePath(raw: string): NormalisedPath | null {
  // Most paths have nothing to normalise: no escapes, no dot segments, no backslash.
  if (raw.startsWith("/") && !/%|\\|\/\.\.?(?:\/|$)/.test(raw)) return { path: raw, encodedSeparator: false };
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
  const path = removeDotSegments(decoded.startsWith("/") ? decoded : "/" + decoded);
  return { path, encodedSeparator };
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
