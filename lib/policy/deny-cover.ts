// Which org-wide deny entry makes an allow entry useless, and which entries of a draft are such.
// Pure: the dashboard forms, the impact preview and the dry-run share it.
import { domainPattern, type PolicyDocument } from "./document";
import { parseHostPattern, type HostPattern } from "./pattern";

/**
 * Whether `deny` blocks every host and port `p` allows. A deny entry without a port blocks every
 * port (the engine's deny index reads it so); one with a port blocks only that port.
 */
function covers(deny: HostPattern, p: HostPattern): boolean {
  if (deny.port !== null && deny.port !== p.port) return false;
  if (deny.kind === "exact") return p.kind === "exact" && p.host === deny.host;
  return p.host === deny.host ? p.kind === "wildcard" : p.host.endsWith("." + deny.host);
}

/** The org-wide deny entry that refuses every host `pattern` matches, if any. */
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

export type DeniedEntry = { bundle: string; connection?: string; pattern: string; deniedBy: string };

/**
 * Entries of `draft` (Domains and Allowed websites) that its org-wide deny list overrides
 * entirely and that `current` did not already hold: adding them would change nothing.
 */
export function newlyDeniedEntries(current: PolicyDocument, draft: PolicyDocument): DeniedEntry[] {
  const had = new Set<string>();
  for (const b of current.bundles) {
    for (const d of b.domains) had.add(`${b.name}\u0000\u0000${domainPattern(d)}`);
    for (const c of b.connections) for (const w of c.allowedWebsites) had.add(`${b.name}\u0000${c.name}\u0000${w}`);
  }
  const out: DeniedEntry[] = [];
  for (const b of draft.bundles) {
    const check = (pattern: string, connection?: string) => {
      if (had.has(`${b.name}\u0000${connection ?? ""}\u0000${pattern}`)) return;
      const deniedBy = denyEntryCovering(draft.orgDeny, pattern);
      if (deniedBy) out.push({ bundle: b.name, ...(connection ? { connection } : {}), pattern, deniedBy });
    };
    for (const d of b.domains) check(domainPattern(d));
    for (const c of b.connections) for (const w of c.allowedWebsites) check(w, c.name);
  }
  return out;
}
