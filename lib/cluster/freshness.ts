// Fail closed on staleness: a replica admits requests only while it has confirmed, within a
// bound, that its in-memory policy and sessions revisions are the database's. The change feed
// (change-feed.ts) confirms on every successful revision read; the proxy asks `refusal()` per
// request, which is one clock read and a comparison.
import { logger } from "../log";

export type FreshnessOptions = {
  /** Past this long without a confirmation, new requests are refused (503 policy_unavailable). */
  maxStaleMs: number;
  now?: () => number;
  /** One line when the replica stops admitting, one when it admits again. */
  log?: (line: string) => void;
};

export const DEFAULT_MAX_STALE_MS = 3000;

export class Freshness {
  readonly #maxStaleMs: number;
  readonly #now: () => number;
  readonly #log: (line: string) => void;
  /** When a revision read that started at this time answered; null until the first one. */
  #confirmedAt: number | null = null;
  /** Why confirmations stopped, as last reported by the feed (no error text from the database). */
  #cause = "the change feed has not connected yet";
  /** Starts refusing, silently: a replica that has not read the revisions yet admits nothing. */
  #refusing = true;
  #everFresh = false;

  constructor(opts: FreshnessOptions) {
    if (!(opts.maxStaleMs > 0)) throw new Error("maxStaleMs must be positive");
    this.#maxStaleMs = opts.maxStaleMs;
    this.#now = opts.now ?? Date.now;
    this.#log = opts.log ?? ((line) => logger("cluster").warn(line));
  }

  /**
   * The database's revisions were read by a query sent at `readStartedAt`: whatever committed
   * before then is known. (The start, not the answer: a slow answer confirms nothing newer.)
   */
  confirm(readStartedAt: number): void {
    if (this.#confirmedAt === null || readStartedAt > this.#confirmedAt) this.#confirmedAt = readStartedAt;
    // If confirmations stop with the feed still connected, this is why.
    this.#cause = "no revision read has answered";
    this.#update();
  }

  /** The feed lost its connection or its LISTEN: why, for the log and /readyz. */
  lost(cause: string): void {
    this.#cause = cause;
    this.#update();
  }

  /** Null while fresh; otherwise the reason a new request is refused. */
  refusal(): string | null {
    return this.#update() ? null : this.#reason();
  }

  /** Milliseconds since the last confirmation (Infinity before the first). */
  staleForMs(): number {
    return this.#confirmedAt === null ? Infinity : Math.max(0, this.#now() - this.#confirmedAt);
  }

  /** Re-evaluates and logs a transition; true when fresh. Callers also tick it with no traffic. */
  #update(): boolean {
    const fresh = this.staleForMs() <= this.#maxStaleMs;
    if (!fresh && !this.#refusing) {
      this.#refusing = true;
      this.#log(`not admitting requests (503 policy_unavailable): ${this.#reason()}`);
    } else if (fresh && this.#refusing) {
      this.#refusing = false;
      if (this.#everFresh) this.#log("change feed current again; admitting requests");
      this.#everFresh = true;
    }
    return fresh;
  }

  #reason(): string {
    const stale = this.staleForMs();
    const since = stale === Infinity ? "never confirmed" : `last confirmed ${(stale / 1000).toFixed(1)} s ago`;
    return `cannot confirm the policy is current (${this.#cause}; ${since}, limit ${(this.#maxStaleMs / 1000).toFixed(1)} s)`;
  }

  /** Exposed for the change feed: keep the cause once a confirmation arrives. */
  tick(): void {
    this.#update();
  }
}
