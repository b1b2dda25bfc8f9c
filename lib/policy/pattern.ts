import { canonicalHost, isIpLiteral, type Scheme, defaultPort } from "./normalize";

/** A host pattern: `api.github.com`, `*.githubusercontent.com`, optionally `:port`. */
export type HostPattern = {
  text: string;
  kind: "exact" | "wildcard";
  /** exact: the host; wildcard: the suffix after "*." */
  host: string;
  /** null: the scheme's default port. */
  port: number | null;
};

export class PatternError extends Error {}

export function parseHostPattern(input: string): HostPattern {
  const raw = input.trim();
  if (raw === "") throw new PatternError("host pattern is empty");
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(raw)) throw new PatternError(`"${raw}": give a host, not a URL`);
  if (/[/?#@\s]/.test(raw)) throw new PatternError(`"${raw}": a host pattern has no path, userinfo or spaces`);
  let hostPart = raw;
  let port: number | null = null;
  const portMatch = /^(.*?)(?::(\d{1,5}))?$/.exec(raw.startsWith("[") ? raw.replace(/^(\[[^\]]*\])/, "$1") : raw);
  if (raw.startsWith("[")) {
    const close = raw.indexOf("]");
    if (close < 0) throw new PatternError(`"${raw}": unclosed IPv6 bracket`);
    hostPart = raw.slice(0, close + 1);
    const rest = raw.slice(close + 1);
    if (rest !== "") {
      if (!/^:\d{1,5}$/.test(rest)) throw new PatternError(`"${raw}": bad port`);
      port = Number(rest.slice(1));
    }
  } else if (portMatch && portMatch[2] !== undefined) {
    hostPart = portMatch[1]!;
    port = Number(portMatch[2]);
  } else if (raw.includes(":")) {
    throw new PatternError(`"${raw}": bad port`);
  }
  if (port !== null && (port < 1 || port > 65535)) throw new PatternError(`"${raw}": port must be 1-65535`);

  if (hostPart.startsWith("*.")) {
    const suffix = canonicalHost(hostPart.slice(2));
    if (!suffix || isIpLiteral(suffix)) throw new PatternError(`"${raw}": not a valid wildcard host`);
    if (!suffix.includes(".")) throw new PatternError(`"${raw}": a wildcard needs at least two labels after "*."`);
    return { text: formatPattern("wildcard", suffix, port), kind: "wildcard", host: suffix, port };
  }
  if (hostPart.includes("*")) throw new PatternError(`"${raw}": "*" is only allowed as a leading "*." label`);
  const host = canonicalHost(hostPart);
  if (!host) throw new PatternError(`"${raw}": not a valid host`);
  return { text: formatPattern("exact", host, port), kind: "exact", host, port };
}

function formatPattern(kind: HostPattern["kind"], host: string, port: number | null): string {
  const h = host.includes(":") ? `[${host}]` : host;
  return (kind === "wildcard" ? "*." : "") + h + (port === null ? "" : `:${port}`);
}

export function patternMatches(p: HostPattern, host: string, port: number, scheme: Scheme): boolean {
  if ((p.port ?? defaultPort(scheme)) !== port) return false;
  if (p.kind === "exact") return p.host === host;
  return !isIpLiteral(host) && host.length > p.host.length && host.endsWith("." + p.host);
}

/** The canonical spelling of a pattern, or null with no exception: for validation as you type. */
export function checkHostPattern(input: string): { ok: true; pattern: string } | { ok: false; message: string } {
  try {
    return { ok: true, pattern: parseHostPattern(input).text };
  } catch (err) {
    return { ok: false, message: (err as Error).message };
  }
}
