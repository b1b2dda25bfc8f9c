// Request and response header hygiene (RFC 9110 §7.6.1): hop-by-hop headers are the proxy's own.
import type { IncomingHttpHeaders } from "node:http";
import { METHOD_OVERRIDE_HEADERS } from "../policy";
import { tokenFinder } from "./token";

/** RFC 9110 §7.6.3: a proxy adds itself to Via on what it forwards (a pseudonym, not its host name). */
const VIA = "1.1 gatehouse";

function withVia(existing: string | string[] | undefined): string {
  const prior = Array.isArray(existing) ? existing.join(", ") : existing;
  return prior ? `${prior}, ${VIA}` : VIA;
}

const HOP_BY_HOP = new Set([
  "connection",
  "keep-alive",
  "proxy-authorization",
  "proxy-authenticate",
  "proxy-connection",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
  "host",
]);

/** Headers named by Connection are hop-by-hop too. */
function connectionListed(headers: IncomingHttpHeaders): Set<string> {
  const listed = new Set<string>();
  const raw = headers.connection;
  for (const v of Array.isArray(raw) ? raw : raw ? [raw] : []) for (const name of v.split(",")) listed.add(name.trim().toLowerCase());
  return listed;
}

export function hasMethodOverride(headers: IncomingHttpHeaders): boolean {
  return METHOD_OVERRIDE_HEADERS.some((h) => headers[h] !== undefined);
}

/**
 * What goes upstream: end-to-end headers only, never the proxy credentials or anything that
 * carries the session token, and Gatehouse in Via. `Host` is set by the caller to the canonical host.
 */
export function upstreamRequestHeaders(
  headers: IncomingHttpHeaders,
  token: string | null,
  keep: { upgrade?: boolean } = {},
): Record<string, string | string[]> {
  const listed = connectionListed(headers);
  const finder = token ? tokenFinder(token) : null;
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    if ((HOP_BY_HOP.has(name) || listed.has(name)) && !(keep.upgrade && (name === "upgrade" || name === "connection"))) continue;
    if (name.startsWith("x-gatehouse-")) continue;
    // Node's server has already answered "100 Continue" to the sandbox, and undici cannot send it.
    if (name === "expect") continue;
    // Whole or in pieces, in any encoding, in a value or as a name: such a header stays here.
    if (
      finder &&
      (finder.carriesIgnoringCase(name) || (Array.isArray(value) ? value.some((v) => finder.carries(v)) : finder.carries(value)))
    )
      continue;
    out[name] = value;
  }
  out.via = withVia(out.via);
  return out;
}

export function downstreamResponseHeaders(headers: Record<string, string | string[] | undefined>): Record<string, string | string[]> {
  const listed = new Set<string>();
  const conn = headers.connection;
  for (const v of Array.isArray(conn) ? conn : conn ? [conn] : []) for (const name of v.split(",")) listed.add(name.trim().toLowerCase());
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    const lower = name.toLowerCase();
    if ((HOP_BY_HOP.has(lower) && lower !== "host") || listed.has(lower) || lower.startsWith("x-gatehouse-")) continue;
    out[lower] = value;
  }
  out.via = withVia(out.via);
  return out;
}
