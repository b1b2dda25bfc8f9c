import { isIpLiteral, type Scheme, defaultPort } from "./normalize";
import type { HostPattern } from "./pattern";

/**
 * Host patterns indexed so a lookup costs O(labels in the host), not O(rules): exact hosts in
 * one map, wildcard suffixes in another, probed once per proper suffix of the host.
 */
export class HostIndex<T> {
  readonly #exact = new Map<string, { pattern: HostPattern; value: T }[]>();
  readonly #wildcard = new Map<string, { pattern: HostPattern; value: T }[]>();
  size = 0;

  add(pattern: HostPattern, value: T): void {
    const map = pattern.kind === "exact" ? this.#exact : this.#wildcard;
    let list = map.get(pattern.host);
    if (!list) map.set(pattern.host, (list = []));
    list.push({ pattern, value });
    this.size++;
  }

  /** Every entry whose pattern matches host and port, exact matches first. */
  lookup(host: string, port: number, scheme: Scheme): { pattern: HostPattern; value: T }[] {
    const out: { pattern: HostPattern; value: T }[] = [];
    const dport = defaultPort(scheme);
    const exact = this.#exact.get(host);
    if (exact) for (const e of exact) if ((e.pattern.port ?? dport) === port) out.push(e);
    if (this.#wildcard.size > 0 && !isIpLiteral(host)) {
      let dot = host.indexOf(".");
      while (dot >= 0) {
        const list = this.#wildcard.get(host.slice(dot + 1));
        if (list) for (const e of list) if ((e.pattern.port ?? dport) === port) out.push(e);
        dot = host.indexOf(".", dot + 1);
      }
    }
    return out;
  }

  /** Whether any pattern names this host on any port (CONNECT planning). */
  hasHost(host: string): boolean {
    if (this.#exact.has(host)) return true;
    if (isIpLiteral(host)) return false;
    let dot = host.indexOf(".");
    while (dot >= 0) {
      if (this.#wildcard.has(host.slice(dot + 1))) return true;
      dot = host.indexOf(".", dot + 1);
    }
    return false;
  }
}
