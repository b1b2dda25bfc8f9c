import { parseHostPattern, type HostPattern } from "../../policy";

function covers(deny: HostPattern, p: HostPattern): boolean {
  if (deny.port !== p.port) return false;
  if (deny.kind === "exact") return p.kind === "exact" && p.host === deny.host;
  return p.host === deny.host ? p.kind === "wildcard" : p.host.endsWith("." + deny.host);
}

/**
 * The org-wide deny entry that refuses every host `pattern` matches, if any: allowing such a
 * pattern would have no effect, so the dashboard neither offers nor accepts it.
 */
export function denyEntryCovering(orgDeny: readonly string[], pattern: string): string | undefined {
  let p: HostPattern;
  try {
    p = parseHostPattern(pattern);
  } catch {
    return undefined;
  }
  for (const entry of orgDeny) {
    try {
      if (covers(parseHostPattern(entry), p)) return entry;
    } catch {
      // An unparsable stored entry covers nothing.
    }
  }
  return undefined;
}
