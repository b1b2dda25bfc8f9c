// GATEHOUSE_UPSTREAM_PROXY: every upstream (forwarded HTTP, intercepted HTTPS, blind tunnels,
// WebSockets) is reached through the company's own proxy with CONNECT, except hosts in
// GATEHOUSE_UPSTREAM_NO_PROXY, which are resolved and dialled directly as before.
//
// Decisions, credentials, redaction and audit happen before and after the dial, as always: only
// the dial changes. TLS to the upstream still runs end to end inside the tunnel (SNI and the
// certificate check are the upstream's), so a credential is still attached only where the
// upstream's certificate verified. The parent resolves the names it is sent, so the SSRF guard
// checks what it can without DNS (privateDestination) and leaves the rest to the parent's rules.
//
// The parent's user and password never leave this file but as the Proxy-Authorization header of
// a CONNECT; messages name the parent by host:port only.
import net from "node:net";
import tls from "node:tls";
import type { buildConnector } from "undici";
import type { UpstreamProxy } from "../env";
import { Resolver, type ResolvedAddress, type ResolveResult } from "./resolve";

/** A parent's answer to CONNECT larger than this is refused (a proxy's head is a few hundred bytes). */
const MAX_CONNECT_HEAD = 16 * 1024;

/** Names that only ever lead inside a network, whatever a resolver says (RFC 6761, 6762, 8375, ICANN's .internal). */
const PRIVATE_SUFFIXES = ["localhost", "local", "internal", "home.arpa", "intranet", "lan", "corp", "private"];

/** An error whose code the proxy maps to a status (relay.ts upstreamFailure): never carries the parent's credentials. */
function dialError(code: string, message: string): NodeJS.ErrnoException {
  return Object.assign(new Error(message), { code });
}

/**
 * `host` matches a GATEHOUSE_UPSTREAM_NO_PROXY entry: `*` (everything), a name (itself and its
 * subdomains, as curl reads NO_PROXY; a leading `.` or `*.` means the same), an IP address, or a
 * CIDR range for IP literals.
 */
export function noProxyMatches(entries: readonly string[], host: string): boolean {
  const h = host
    .toLowerCase()
    .replace(/\.$/, "")
    .replace(/^\[|\]$/g, "");
  for (const raw of entries) {
    const e = raw.replace(/^\*?\./, "").replace(/^\[|\]$/g, "");
    if (e === "*") return true;
    if (e.includes("/")) {
      const [addr, bits] = e.split("/");
      const family = net.isIP(addr!);
      if (family && net.isIP(h) === family) {
        const list = new net.BlockList();
        list.addSubnet(addr!, Number(bits), family === 6 ? "ipv6" : "ipv4");
        if (list.check(h, family === 6 ? "ipv6" : "ipv4")) return true;
      }
      continue;
    }
    if (h === e || (!net.isIP(h) && h.endsWith(`.${e}`))) return true;
  }
  return false;
}

/** A name with no public meaning: one label, or under a suffix reserved for local use. */
export function isPrivateName(host: string): boolean {
  const h = host.toLowerCase().replace(/\.$/, "");
  if (net.isIP(h)) return false;
  if (!h.includes(".")) return true;
  return PRIVATE_SUFFIXES.some((s) => h === s || h.endsWith(`.${s}`));
}

export type ParentDeps = {
  config: UpstreamProxy;
  /** GATEHOUSE_RESOLVE: a name with an override is sent to the parent as that address. */
  overrides: Record<string, string>;
  /** The SSRF guard's address check (Resolver.permitted). */
  permitted: (address: string) => boolean;
  /** Trust for the parent's own TLS (system roots plus GATEHOUSE_UPSTREAM_PROXY_CA). */
  parentCa?: string[];
};

export class ParentProxy {
  readonly #d: ParentDeps;
  readonly #parentTls: tls.SecureContext | null;

  constructor(deps: ParentDeps) {
    this.#d = deps;
    this.#parentTls = deps.config.tls ? tls.createSecureContext({ ca: deps.parentCa ?? [...tls.rootCertificates] }) : null;
  }

  /** `host:port` of the parent, for messages. */
  get display(): string {
    return this.#d.config.display;
  }

  /** Whether this host is reached through the parent (not listed in GATEHOUSE_UPSTREAM_NO_PROXY). */
  applies(host: string): boolean {
    return !noProxyMatches(this.#d.config.noProxy, host);
  }

  /** What CONNECT names: the GATEHOUSE_RESOLVE address when there is one, else the name itself. */
  connectHost(host: string): string {
    return this.#d.overrides[host] ?? host;
  }

  /**
   * The SSRF guard without DNS, for a host the parent will resolve: an IP literal (or an
   * override) must be a permitted address, and a private name is refused. Null: may go.
   */
  privateDestination(host: string): string | null {
    const dial = this.connectHost(host);
    if (net.isIP(dial))
      return this.#d.permitted(dial)
        ? null
        : `${host} is ${dial === host ? "" : `set to ${dial}, `}a private, loopback, link-local or metadata address`;
    if (isPrivateName(dial))
      return `${host} is a private name (it can only lead inside a network), and the parent proxy would resolve it where Gatehouse cannot check the address`;
    return null;
  }

  /**
   * A raw byte stream to host:port through the parent (CONNECT), paused: pipe(), a `readable`
   * reader or resume() takes it from there, so no byte that followed the parent's answer is
   * lost in between. Rejects with code
   * EGATEHOUSE_REFUSED for a private destination, UND_ERR_CONNECT_TIMEOUT past `timeoutMs`, or
   * PARENT_PROXY_<status> when the parent refuses.
   */
  tunnel(host: string, port: number, timeoutMs: number): Promise<net.Socket> {
    const refused = this.privateDestination(host);
    if (refused) return Promise.reject(dialError("EGATEHOUSE_REFUSED", refused));
    const dial = this.connectHost(host);
    const authority = `${net.isIP(dial) === 6 ? `[${dial}]` : dial}:${port}`;
    const { config } = this.#d;
    return new Promise((resolve, reject) => {
      const socket: net.Socket = this.#parentTls
        ? tls.connect({
            host: config.host,
            port: config.port,
            servername: net.isIP(config.host) ? undefined : config.host,
            secureContext: this.#parentTls,
            rejectUnauthorized: true,
          })
        : net.connect({ host: config.host, port: config.port });
      let head = Buffer.alloc(0);
      let settled = false;
      const finish = (err: NodeJS.ErrnoException | null) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        socket.removeListener("data", onData);
        socket.removeListener("error", onError);
        socket.removeListener("close", onClose);
        if (err) {
          socket.destroy();
          return reject(err);
        }
        resolve(socket);
      };
      const timer = setTimeout(
        () =>
          finish(dialError("UND_ERR_CONNECT_TIMEOUT", `the parent proxy ${config.display} did not open a tunnel within ${timeoutMs} ms`)),
        timeoutMs,
      );
      const onError = (err: NodeJS.ErrnoException) =>
        finish(
          dialError(err.code ?? "PARENT_PROXY_ERROR", `the parent proxy ${config.display} could not be reached (${err.code ?? "error"})`),
        );
      const onClose = () =>
        finish(dialError("PARENT_PROXY_CLOSED", `the parent proxy ${config.display} closed the connection before answering CONNECT`));
      const onData = (chunk: Buffer) => {
        head = Buffer.concat([head, chunk]);
        const end = head.indexOf("\r\n\r\n");
        if (end < 0) {
          if (head.length > MAX_CONNECT_HEAD)
            finish(dialError("PARENT_PROXY_INVALID", `the parent proxy ${config.display} sent an oversized answer to CONNECT`));
          return;
        }
        const status = /^HTTP\/1\.[01] (\d{3})/.exec(head.subarray(0, Math.min(end, 64)).toString("latin1"));
        if (!status) return finish(dialError("PARENT_PROXY_INVALID", `the parent proxy ${config.display} did not answer CONNECT in HTTP`));
        const code = Number(status[1]);
        if (code < 200 || code > 299)
          return finish(dialError(`PARENT_PROXY_${code}`, `the parent proxy ${config.display} refused the tunnel (${code})`));
        // Flowing stops here; whatever came after the head is the upstream's and is put back.
        socket.pause();
        const rest = head.subarray(end + 4);
        if (rest.length) socket.unshift(rest);
        finish(null);
      };
      socket.on("data", onData);
      socket.on("error", onError);
      socket.on("close", onClose);
      const authorization = config.authorization ? `Proxy-Authorization: ${config.authorization.reveal()}\r\n` : "";
      socket.write(`CONNECT ${authority} HTTP/1.1\r\nHost: ${authority}\r\n${authorization}\r\n`);
    });
  }

  /** tunnel(), then TLS to the upstream inside it (SNI and the certificate are the upstream's). */
  async tunnelTls(
    host: string,
    port: number,
    opts: { servername: string; secureContext: tls.SecureContext; alpn?: string[] },
    timeoutMs: number,
  ): Promise<tls.TLSSocket> {
    const started = Date.now();
    const raw = await this.tunnel(host, port, timeoutMs);
    return new Promise((resolve, reject) => {
      const t = tls.connect({
        socket: raw,
        servername: net.isIP(opts.servername) ? undefined : opts.servername,
        secureContext: opts.secureContext,
        rejectUnauthorized: true,
        ALPNProtocols: opts.alpn,
      });
      const timer = setTimeout(
        () => {
          t.destroy();
          reject(dialError("UND_ERR_CONNECT_TIMEOUT", `TLS through the parent proxy did not complete within ${timeoutMs} ms`));
        },
        Math.max(1, timeoutMs - (Date.now() - started)),
      );
      t.once("secureConnect", () => {
        clearTimeout(timer);
        t.removeListener("error", onError);
        resolve(t);
      });
      const onError = (err: Error) => {
        clearTimeout(timer);
        raw.destroy();
        reject(err);
      };
      t.once("error", onError);
    });
  }

  /**
   * An undici connector: hosts the parent applies to go through it, the others through `direct`
   * (the usual connector, with the resolver's checked lookup).
   */
  connector(direct: buildConnector.connector, upstreamTls: tls.SecureContext, timeoutMs: number): buildConnector.connector {
    return (opts, callback) => {
      const host = opts.hostname.replace(/^\[|\]$/g, "");
      if (!this.applies(host)) return direct(opts, callback);
      const https = opts.protocol === "https:";
      const port = Number(opts.port) || (https ? 443 : 80);
      const opened = https
        ? this.tunnelTls(host, port, { servername: opts.servername || host, secureContext: upstreamTls, alpn: ["http/1.1"] }, timeoutMs)
        : this.tunnel(host, port, timeoutMs);
      opened.then(
        (socket) => callback(null, socket),
        (err: Error) => callback(err, null),
      );
    };
  }
}

/**
 * The resolver with a parent proxy: a host the parent applies to is not resolved here (the
 * parent resolves it); it passes the checks privateDestination can make without DNS and comes
 * back marked `viaParent`, so that every dialler goes through the parent. Other hosts
 * (GATEHOUSE_UPSTREAM_NO_PROXY) are resolved and checked as always.
 */
export class ParentAwareResolver extends Resolver {
  readonly parent: ParentProxy;

  constructor(opts: ConstructorParameters<typeof Resolver>[0], parent: Omit<ParentDeps, "permitted" | "overrides">) {
    super(opts);
    this.parent = new ParentProxy({ ...parent, overrides: opts.overrides, permitted: (a) => this.permitted(a) });
  }

  #viaParent(host: string): ResolvedAddress {
    const address = this.parent.connectHost(host);
    return { address, family: net.isIP(address) === 6 ? 6 : 4, viaParent: true };
  }

  override resolveCached(host: string): ResolvedAddress | null {
    if (!this.parent.applies(host)) return super.resolveCached(host);
    return this.parent.privateDestination(host) ? null : this.#viaParent(host);
  }

  override async resolve(host: string): Promise<ResolveResult> {
    if (!this.parent.applies(host)) return super.resolve(host);
    const refused = this.parent.privateDestination(host);
    if (refused) return { ok: false, code: "private_address", message: refused };
    return { ok: true, address: this.#viaParent(host) };
  }
}
