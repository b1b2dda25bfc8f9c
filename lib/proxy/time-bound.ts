// Time-bound grants and report-only mode at the proxy: which open connections rest on a grant
// (closed when it expires), the X-Gatehouse-Report-Only header, and what the audit records.
import type { Duplex } from "node:stream";
import type { Decision } from "../policy";
import type { ProxyAnswer } from "./respond";

/**
 * Open connections whose last decision rests on something that expires: a blind tunnel, a
 * WebSocket, a kept-alive connection (its next request would be decided anew, but what is open
 * must not outlive the grant). The policy cache calls `closeExpired` at each expiry instant.
 */
export class ExpiringSockets {
  readonly #until = new Map<Duplex, number>();
  readonly #watched = new WeakSet<Duplex>();

  /** Records what `sockets` now depend on; a decision that does not expire releases them. */
  track(sockets: readonly (Duplex | null | undefined)[], decision: Pick<Decision, "expiresAt">): void {
    for (const s of sockets) {
      if (!s || s.destroyed) continue;
      if (decision.expiresAt === undefined) {
        this.#until.delete(s);
        continue;
      }
      this.#until.set(s, decision.expiresAt);
      if (!this.#watched.has(s)) {
        this.#watched.add(s);
        s.once("close", () => this.#until.delete(s));
      }
    }
  }

  /** Destroys every connection whose grant has ended by `now`; returns how many. */
  closeExpired(now: number): number {
    let closed = 0;
    for (const [s, until] of this.#until) {
      if (until > now) continue;
      this.#until.delete(s);
      s.destroy();
      closed++;
    }
    return closed;
  }

  get size(): number {
    return this.#until.size;
  }
}

/** What a refusal of a decided request adds: the host to ask for, the report-only header. */
export function refusalExtras(
  decision: Decision,
  target: { scheme: "http" | "https"; host: string; port: number },
): Pick<ProxyAnswer, "ask" | "reportOnly"> {
  const reportOnly = reportOnlyHeader(decision);
  return { ...(decision.code === "host_not_allowed" ? { ask: hostToAskFor(target) } : {}), ...(reportOnly ? { reportOnly } : {}) };
}

/** `X-Gatehouse-Report-Only` on every answer to a channel in report-only mode. */
export function reportOnlyHeader(decision: Pick<Decision, "reportOnlyUntil" | "wouldBlock">): string | undefined {
  if (decision.reportOnlyUntil === undefined) return undefined;
  return `${decision.wouldBlock ? "would-block" : "on"}; until=${new Date(decision.reportOnlyUntil).toISOString()}`;
}

/** The audit detail of a request report-only let out: what would have blocked it. */
export function wouldBlockDetail(decision: Pick<Decision, "wouldBlock">): Record<string, unknown> | null {
  const w = decision.wouldBlock;
  return w ? { wouldBlock: true, blockCode: w.code, blockRule: w.rule, blockReason: w.reason } : null;
}

/**
 * For a request blocked as not listed: the host (with its port when not the scheme's default)
 * an agent should ask an Owner to grant. Added to the refusal's `error` object (additive).
 */
export function hostToAskFor(target: { scheme: "http" | "https"; host: string; port: number }): string {
  const dflt = target.scheme === "https" ? 443 : 80;
  const host = target.host.includes(":") ? `[${target.host}]` : target.host;
  return target.port === dflt ? host : `${host}:${target.port}`;
}
