// Per-session socket bookkeeping: which sockets to close when a session is revoked, how many
// connections a session holds, and how many a peer holds before it presents a valid session.
import type net from "node:net";
import type { Duplex } from "node:stream";
import type { Env } from "../env";
import { newRequestId, type ProxySessions } from "./core";
import { answerSocket } from "./respond";

/** A session's open sockets: all are closed when it is revoked; only sandbox connections are counted. */
type Sockets = { all: Set<Duplex>; connections: number };

export class SessionSockets {
  readonly #d: { env: Env; now: () => number; sessions: ProxySessions };
  readonly #bySession = new Map<string, Sockets>();
  /** Connections per peer address that have not yet presented a valid session, and their releases. */
  readonly #unauthenticated = new Map<string, number>();
  readonly #releaseOnAuthentication = new WeakMap<Duplex, () => void>();
  #revocationTimer: NodeJS.Timeout | null = null;
  #lastRevocationCheck: number;

  constructor(d: { env: Env; now: () => number; sessions: ProxySessions }) {
    this.#d = d;
    this.#lastRevocationCheck = d.now();
  }

  /** Revoked sessions' sockets are closed by a sweep every 500 ms. */
  watchRevocations(): void {
    this.#revocationTimer = setInterval(() => this.closeRevokedSessions(), 500);
    this.#revocationTimer.unref();
  }

  closeAll(): void {
    if (this.#revocationTimer) clearInterval(this.#revocationTimer);
    for (const { all } of this.#bySession.values()) for (const s of all) s.destroy();
    this.#bySession.clear();
  }

  /**
   * Remembers a socket of a session, so revoking the session closes it. A sandbox's connection
   * counts against the session's limit (false: the limit is reached); a `companion` (the
   * upstream side of a tunnel, the TLS layer of an intercepted one) is closed with it but not counted.
   */
  track(sessionId: string, socket: Duplex, kind: "connection" | "companion" = "connection"): boolean {
    let tracked = this.#bySession.get(sessionId);
    if (!tracked) this.#bySession.set(sessionId, (tracked = { all: new Set(), connections: 0 }));
    if (tracked.all.has(socket)) return true;
    const counted = kind === "connection";
    if (counted && tracked.connections >= this.#d.env.proxyLimits.connectionsPerSession) return false;
    tracked.all.add(socket);
    if (counted) {
      tracked.connections++;
      this.#releaseOnAuthentication.get(socket)?.();
    }
    const session = tracked;
    socket.once("close", () => {
      session.all.delete(socket);
      if (counted) session.connections--;
      if (session.all.size === 0 && this.#bySession.get(sessionId) === session) this.#bySession.delete(sessionId);
    });
    return true;
  }

  /**
   * Until a connection presents a valid session it counts against its peer address: a peer that
   * opens connections and never authenticates runs out of them, not the process of descriptors.
   */
  admitConnection(socket: net.Socket): boolean {
    const peer = socket.remoteAddress ?? "";
    const open = this.#unauthenticated.get(peer) ?? 0;
    const limit = this.#d.env.proxyLimits.unauthenticatedPerPeer;
    if (open >= limit) {
      socket.on("error", () => socket.destroy());
      answerSocket(socket, {
        status: 429,
        code: "too_many_connections",
        message: `${limit} connections from this address are already open without a valid session token; authenticate or close some`,
        outcome: "blocked",
        requestId: newRequestId(),
      });
      return false;
    }
    this.#unauthenticated.set(peer, open + 1);
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      const left = (this.#unauthenticated.get(peer) ?? 1) - 1;
      if (left > 0) this.#unauthenticated.set(peer, left);
      else this.#unauthenticated.delete(peer);
    };
    this.#releaseOnAuthentication.set(socket, release);
    socket.once("close", release);
    return true;
  }

  /** The sweep; also run at once when the change feed announces a revocation (replicas). */
  closeRevokedSessions(): void {
    if (this.#bySession.size === 0) {
      this.#lastRevocationCheck = this.#d.now();
      return;
    }
    const since = this.#lastRevocationCheck - 1000;
    const checkedAt = this.#d.now();
    let revoked: Iterable<string>;
    try {
      revoked = this.#d.sessions.revokedSince(since);
    } catch {
      return; // the database could not be read: the next tick looks again from the same point
    }
    this.#lastRevocationCheck = checkedAt;
    for (const id of revoked) {
      const sockets = this.#bySession.get(id);
      if (!sockets) continue;
      for (const s of sockets.all) s.destroy();
      this.#bySession.delete(id);
    }
  }
}
