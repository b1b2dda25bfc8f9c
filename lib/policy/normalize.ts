// Host and path normalisation. Pure: no I/O. The canonical spelling decided here is the one
// used for matching, attaching, dialling and the audit log.
import { domainToASCII } from "node:url";
import { isIP } from "node:net";

export type Scheme = "http" | "https";

export function defaultPort(scheme: Scheme): number {
  return scheme === "https" ? 443 : 80;
}

const HOST_CHARS = /^[a-z0-9.-]+$/;

/**
 * Lower case, trailing dot removed, IDN to punycode, IPv4 in dotted-quad form, IPv6 in
 * brackets stripped and compressed. Returns null for anything that is not a valid host.
 */
export function canonicalHost(input: string): string | null {
  if (input.length === 0 || input.length > 300) return null;
  let host = input;
  if (host.startsWith("[") && host.endsWith("]")) {
    const inner = host.slice(1, -1);
    if (isIP(inner) !== 6) return null;
    try {
      return new URL(`http://[${inner}]/`).hostname.slice(1, -1);
    } catch {
      return null;
    }
  }
  if (isIP(host) === 6) return canonicalHost(`[${host}]`);
  if (/[\s/\\?#@[\]%:]/.test(host)) return null;
  if (host.endsWith(".")) host = host.slice(0, -1);
  if (host.endsWith(".")) return null; // "a.." is not a name
  const ascii = domainToASCII(host);
  if (!ascii) return null;
  // domainToASCII leaves IPv4 shorthands ("0x7f.1") alone; the WHATWG host parser does not.
  let normalised: string;
  try {
    normalised = new URL(`http://${ascii}/`).hostname;
  } catch {
    return null;
  }
  if (normalised.endsWith(".")) normalised = normalised.slice(0, -1);
  if (!HOST_CHARS.test(normalised) && isIP(normalised) === 0) return null;
  if (normalised.split(".").some((label) => label.length === 0 || label.length > 63)) return null;
  return normalised;
}

export function isIpLiteral(host: string): boolean {
  return isIP(host) !== 0;
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
