// Parsing what a client asked for into one canonical target, decided once. Pure.
import { canonicalHost, defaultPort, type Scheme } from "./normalize";

export type Target = {
  scheme: Scheme;
  host: string;
  port: number;
  /** Path as sent (not normalised), without the query. */
  path: string;
  /** "?…" or "" — forwarded upstream, never logged. */
  search: string;
};

export type TargetError = { error: "userinfo_not_allowed" | "bad_target" | "unsupported_scheme"; message: string };

export function isTargetError(t: Target | TargetError): t is TargetError {
  return (t as TargetError).error !== undefined;
}

/** host[:port] as in a CONNECT request or an embedded-route segment. */
export function parseAuthority(authority: string, scheme: Scheme): { host: string; port: number } | TargetError {
  if (authority.includes("@")) return { error: "userinfo_not_allowed", message: "a URL with userinfo is not allowed" };
  let hostPart: string;
  let portPart: string | undefined;
  if (authority.startsWith("[")) {
    const close = authority.indexOf("]");
    if (close < 0) return { error: "bad_target", message: "unclosed IPv6 bracket" };
    hostPart = authority.slice(0, close + 1);
    const rest = authority.slice(close + 1);
    if (rest !== "") {
      if (!rest.startsWith(":")) return { error: "bad_target", message: "bad authority" };
      portPart = rest.slice(1);
    }
  } else {
    const colon = authority.lastIndexOf(":");
    if (colon >= 0) {
      hostPart = authority.slice(0, colon);
      portPart = authority.slice(colon + 1);
    } else hostPart = authority;
    // RFC 3986 §3.2.2: an IPv6 address in an authority is bracketed; "::1:80" is no host:port.
    if (hostPart.includes(":")) return { error: "bad_target", message: "an IPv6 address in a target must be in brackets" };
  }
  let port = defaultPort(scheme);
  if (portPart !== undefined) {
    if (!/^\d{1,5}$/.test(portPart)) return { error: "bad_target", message: `bad port "${portPart}"` };
    port = Number(portPart);
    if (port < 1 || port > 65535) return { error: "bad_target", message: `port ${port} is out of range` };
  }
  const host = canonicalHost(hostPart);
  if (!host) return { error: "bad_target", message: `"${hostPart}" is not a valid host` };
  return { host, port };
}

/** A CONNECT request-target: host:port, the port required (RFC 9110 §9.3.6). */
export function parseConnectTarget(authority: string): { host: string; port: number } | TargetError {
  if (!/:\d+$/.test(authority))
    return { error: "bad_target", message: "a CONNECT target is host:port (RFC 9110 §9.3.6); the port is missing" };
  return parseAuthority(authority, "https");
}

/** An absolute-form request-target: http(s)://authority/path?query. */
export function parseAbsoluteTarget(raw: string): Target | TargetError {
  const m = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/([^/?#]*)([^?#]*)(\?[^#]*)?(#.*)?$/.exec(raw);
  if (!m) return { error: "bad_target", message: "the request target is not an absolute http(s) URL" };
  const scheme = m[1]!.toLowerCase();
  if (scheme !== "http" && scheme !== "https") return { error: "unsupported_scheme", message: `scheme ${scheme} is not supported` };
  if (/[\s\u0000-\u001f\u007f]/.test(raw))
    return { error: "bad_target", message: "the request target contains whitespace or control characters" };
  // RFC 3986 path characters only: what a client must percent-encode, we refuse, so that every
  // parser downstream reads the same path we decided on. The query is not decided on.
  if (!/^[A-Za-z0-9\-._~%!$&'()*+,;=:@/]*$/.test(m[3] ?? "")) {
    return { error: "bad_target", message: "the request target contains characters that must be percent-encoded (RFC 3986)" };
  }
  const auth = parseAuthority(m[2]!, scheme);
  if ("error" in auth) return auth;
  const path = m[3] || "/";
  return { scheme, host: auth.host, port: auth.port, path, search: m[4] ?? "" };
}

/** host:port, with brackets for IPv6, omitting the scheme's default port. */
export function hostHeader(host: string, port: number, scheme: Scheme): string {
  const h = host.includes(":") ? `[${host}]` : host;
  return port === defaultPort(scheme) ? h : `${h}:${port}`;
}
