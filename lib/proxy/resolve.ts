// Name resolution with the SSRF guard: resolve once, refuse non-public addresses unless
// GATEHOUSE_ALLOW_PRIVATE lists them, and hand the dialler the exact address that was checked.
import dns from "node:dns";
import net from "node:net";

/** `viaParent`: not resolved here; `address` is what CONNECT names to the parent proxy (parent-proxy.ts). */
export type ResolvedAddress = { address: string; family: 4 | 6; viaParent?: true };
export type ResolveResult = { ok: true; address: ResolvedAddress } | { ok: false; code: "dns_failed" | "private_address"; message: string };

// Loopback, private, link-local (cloud metadata lives at 169.254.169.254), CGNAT, unique-local,
// multicast, reserved and documentation ranges; IPv6 forms that carry an IPv4 address are judged
// by that address (embeddedV4).
const REFUSED_V4 = [
  "0.0.0.0/8",
  "10.0.0.0/8",
  "100.64.0.0/10",
  "127.0.0.0/8",
  "169.254.0.0/16",
  "172.16.0.0/12",
  "192.0.0.0/24",
  "192.0.2.0/24",
  "192.168.0.0/16",
  "198.18.0.0/15",
  "198.51.100.0/24",
  "203.0.113.0/24",
  "224.0.0.0/4",
  "240.0.0.0/4",
];
// Teredo (2001::/32) hides its IPv4 endpoints and local-use NAT64 (64:ff9b:1::/48) maps to
// whatever the site chose: refused outright. Site-local (fec0::/10) is deprecated, but routable inside.
const REFUSED_V6 = [
  "::/128",
  "::1/128",
  "100::/64",
  "2001::/32",
  "2001:db8::/32",
  "64:ff9b:1::/48",
  "fc00::/7",
  "fe80::/10",
  "fec0::/10",
  "ff00::/8",
];

function blockList(cidrs: string[]): net.BlockList {
  const list = new net.BlockList();
  for (const cidr of cidrs) {
    const [addr, bits] = cidr.split("/");
    const family = net.isIP(addr!) === 6 ? "ipv6" : "ipv4";
    if (!net.isIP(addr!) || bits === undefined || !/^\d+$/.test(bits)) throw new Error(`"${cidr}" is not a CIDR range`);
    list.addSubnet(addr!, Number(bits), family);
  }
  return list;
}

/** The eight 16-bit groups of an IPv6 address (also one ending in dotted IPv4), or null. */
function ipv6Groups(address: string): number[] | null {
  if (net.isIP(address) !== 6) return null;
  let text = address.toLowerCase().replace(/%.*$/, "");
  const dotted = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (dotted) {
    const [a, b, c, d] = dotted.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, dotted.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.split("::") as [string, string | undefined];
  const part = (s: string | undefined) => (s ? s.split(":").map((g) => parseInt(g, 16)) : []);
  const left = part(head);
  const right = part(tail);
  return tail === undefined ? left : [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right];
}

const v4From = (hi: number, lo: number) => `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;

/**
 * The IPv4 address an IPv6 one stands for, judged in its place: IPv4-mapped (::ffff:0:0/96),
 * IPv4-translated (::ffff:0:0:0/96), IPv4-compatible (::/96, so also :: and ::1, which fall in
 * refused IPv4 ranges too), NAT64 (64:ff9b::/96) and 6to4 (2002::/16).
 */
function embeddedV4(address: string): string | null {
  const g = ipv6Groups(address);
  if (!g) return null;
  const zeros = (from: number, to: number) => g.slice(from, to).every((x) => x === 0);
  if (zeros(0, 5) && (g[5] === 0xffff || g[5] === 0)) return v4From(g[6]!, g[7]!);
  if (zeros(0, 4) && g[4] === 0xffff && g[5] === 0) return v4From(g[6]!, g[7]!);
  if (g[0] === 0x64 && g[1] === 0xff9b && zeros(2, 6)) return v4From(g[6]!, g[7]!);
  if (g[0] === 0x2002) return v4From(g[1]!, g[2]!);
  return null;
}

export type Lookup = (host: string) => Promise<ResolvedAddress[]>;

const systemLookup: Lookup = async (host) => (await dns.promises.lookup(host, { all: true, verbatim: true })) as ResolvedAddress[];

export class Resolver {
  readonly #refused4 = blockList(REFUSED_V4);
  readonly #refused6 = blockList(REFUSED_V6);
  readonly #allowed: net.BlockList;
  readonly #overrides: Map<string, string>;
  readonly #lookup: Lookup;
  readonly #timeoutMs: number;
  readonly #cache = new Map<string, { result: ResolvedAddress; until: number }>();

  /** `timeoutMs` bounds a DNS lookup (the resolver's own retries can take much longer). */
  constructor(opts: { allowPrivate: string[]; overrides: Record<string, string>; lookup?: Lookup; timeoutMs?: number }) {
    this.#allowed = blockList(opts.allowPrivate);
    this.#overrides = new Map(Object.entries(opts.overrides));
    for (const [host, ip] of this.#overrides) if (!net.isIP(ip)) throw new Error(`GATEHOUSE_RESOLVE: ${host}=${ip} is not an IP address`);
    this.#lookup = opts.lookup ?? systemLookup;
    this.#timeoutMs = opts.timeoutMs ?? 10_000;
  }

  /** Whether an address may be dialled. */
  permitted(address: string): boolean {
    const v4 = net.isIP(address) === 4 ? address : embeddedV4(address);
    if (v4)
      return (
        !this.#refused4.check(v4, "ipv4") ||
        this.#allowed.check(v4, "ipv4") ||
        this.#allowed.check(address, net.isIP(address) === 6 ? "ipv6" : "ipv4")
      );
    return !this.#refused6.check(address, "ipv6") || this.#allowed.check(address, "ipv6");
  }

  /** A permitted address checked within the last 30 s, without waiting; null: call resolve(). */
  resolveCached(host: string): ResolvedAddress | null {
    const cached = this.#cache.get(host);
    return cached && cached.until > Date.now() ? cached.result : null;
  }

  /** Resolves (overrides, IP literals, then DNS) and checks; the answer is kept briefly for the dialler. */
  async resolve(host: string): Promise<ResolveResult> {
    const cached = this.resolveCached(host);
    if (cached) return { ok: true, address: cached };
    let candidates: ResolvedAddress[];
    const override = this.#overrides.get(host);
    if (override) candidates = [{ address: override, family: net.isIP(override) as 4 | 6 }];
    else if (net.isIP(host)) candidates = [{ address: host, family: net.isIP(host) as 4 | 6 }];
    else {
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<"timeout">((resolve) => (timer = setTimeout(resolve, this.#timeoutMs, "timeout")));
      try {
        const answer = await Promise.race([this.#lookup(host), timedOut]);
        if (answer === "timeout")
          return { ok: false, code: "dns_failed", message: `${host} did not resolve within ${this.#timeoutMs / 1000} s` };
        candidates = answer;
      } catch (err) {
        return {
          ok: false,
          code: "dns_failed",
          message: `${host} does not resolve (${(err as NodeJS.ErrnoException).code ?? "lookup failed"})`,
        };
      } finally {
        clearTimeout(timer);
      }
    }
    // Every address must pass: a name that also points inside the network is refused outright,
    // so a later re-resolution cannot pick the inside one.
    const bad = candidates.find((c) => !this.permitted(c.address));
    if (bad)
      return {
        ok: false,
        code: "private_address",
        message: `${host} resolves to ${bad.address}, a private, loopback, link-local or metadata address`,
      };
    if (candidates.length === 0) return { ok: false, code: "dns_failed", message: `${host} has no addresses` };
    const chosen = candidates[0]!;
    if (this.#cache.size > 10_000) this.#cache.clear();
    this.#cache.set(host, { result: chosen, until: Date.now() + 30_000 });
    return { ok: true, address: chosen };
  }

  /**
   * For net/tls `lookup`: answers from the checked cache (the address the decision was made on);
   * a name not checked yet is resolved and checked here, never dialled unchecked.
   */
  readonly lookupForDial = (
    hostname: string,
    options: { all?: boolean },
    callback: (err: Error | null, address: string | { address: string; family: number }[], family?: number) => void,
  ): void => {
    const host = hostname.replace(/^\[|\]$/g, "");
    this.resolve(host).then(
      (r) => {
        if (!r.ok) return callback(Object.assign(new Error(r.message), { code: "EGATEHOUSE_REFUSED" }), "", 4);
        if (options.all) callback(null, [{ address: r.address.address, family: r.address.family }]);
        else callback(null, r.address.address, r.address.family);
      },
      (err: Error) => callback(err, "", 4),
    );
  };
}
