import { isIpLiteral, type Scheme, defaultPort } from "./normalize";
import type { HostPattern } from "./pattern";

/** A host and its proper suffixes ("a.b.c" → ["b.c", "c"]), computed once per decision. */
export type HostKeys = { host: string; suffixes: readonly string[] };

export function hostKeys(host: string): HostKeys {
  const suffixes: string[] = [];
  if (!isIpLiteral(host)) {
    let dot = host.indexOf(".");
    while (dot >= 0) {
      suffixes.push(host.slice(dot + 1));
      dot = host.indexOf(".", dot + 1);
    }
  }
  return { host, suffixes };
}

/**
 * Host patterns indexed so a lookup costs O(labels in the host), not O(rules): exact hosts in
 * one map, wildcard suffixes in another, probed once per proper suffix of the host.
 */
export class HostIndex<T> {
  readonly #exact = new Map<string, { pattern: HostPattern; value: T }[]>();
  readonly #wildcard = new Map<string, { pattern: HostPattern; value: T }[]>();
  size = 0;
  /** For deny lists: a pattern without a port covers every port, not just the scheme's default. */
  readonly #portlessMatchesAnyPort: boolean;

  constructor(opts: { portlessMatchesAnyPort?: boolean } = {}) {
    this.#portlessMatchesAnyPort = opts.portlessMatchesAnyPort ?? false;
  }

  add(pattern: HostPattern, value: T): void {
    const map = pattern.kind === "exact" ? this.#exact : this.#wildcard;
    let list = map.get(pattern.host);
    if (!list) map.set(pattern.host, (list = []));
    list.push({ pattern, value });
    this.size++;
  }

  /** Every entry whose pattern matches host and port, exact matches first. */
  lookup(keys: HostKeys, port: number, scheme: Scheme): { pattern: HostPattern; value: T }[] {
    const out: { pattern: HostPattern; value: T }[] = [];
    const dport = this.#portlessMatchesAnyPort ? port : defaultPort(scheme);
    const exact = this.#exact.get(keys.host);
    if (exact) for (const e of exact) if ((e.pattern.port ?? dport) === port) out.push(e);
    if (this.#wildcard.size > 0) {
      for (const suffix of keys.suffixes) {
        const list = this.#wildcard.get(suffix);
        if (list) for (const e of list) if ((e.pattern.port ?? dport) === port) out.push(e);
      }
    }
    return out;
  }

  /** Whether any pattern of the given kind names this host, on any port (CONNECT planning). */
  hasHost(host: string, kind?: string): boolean {
    const fits = (list: { value: T }[] | undefined) =>
      !!list && list.some((e) => kind === undefined || (e.value as { kind?: string }).kind === kind);
    if (fits(this.#exact.get(host))) return true;
    return hostKeys(host).suffixes.some((s) => fits(this.#wildcard.get(s)));
  }
}
