// How a change committed through one replica reaches every other (issue #16): a dedicated
// pg.Client, outside any pool (a pooled connection would carry the LISTEN away with it), LISTENs
// on gatehouse_change; each notification is only a hint to read the revisions now. The
// revisions row is the truth, read every heartbeat (~250 ms) on the same connection together
// with pg_listening_channels(); each answered read confirms the replica current (freshness.ts).
// A lost connection is re-opened with exponential backoff and jitter, and everything is re-read
// (`reset`) before the replica admits requests again: notifications sent meanwhile are gone.
import pg from "pg";
import { logger } from "../log";
import { CHANGE_CHANNEL, HEARTBEAT_SQL } from "./change-feed-sql";
import { DEFAULT_MAX_STALE_MS, Freshness } from "./freshness";

export type Revisions = { policy: number; sessions: number };
/**
 * Told of every revision change, and of every re-read after a reconnect (`reset`: drop
 * whatever was cached). The replica counts as current only once every listener's promise settles.
 */
export type ChangeListener = (now: Revisions, before: Revisions | null, reset: boolean) => void | Promise<void>;

export type ChangeFeedOptions = {
  connectionString: string;
  /** Past this without a confirmed read, new requests get 503 policy_unavailable. */
  maxStaleMs?: number;
  heartbeatMs?: number;
  backoffMinMs?: number;
  backoffMaxMs?: number;
  now?: () => number;
  random?: () => number;
  log?: (line: string) => void;
};

export const DEFAULT_HEARTBEAT_MS = 250;
const MAX_PAYLOAD = 256;

export class ChangeFeed {
  readonly freshness: Freshness;
  readonly #o: Required<Omit<ChangeFeedOptions, "connectionString">> & { connectionString: string };
  readonly #listeners = new Set<ChangeListener>();
  #revisions: Revisions | null = null;
  #client: pg.Client | null = null;
  #connecting = false;
  #reading: Promise<void> | null = null;
  #readAgain = false;
  #resetPending = true;
  #failures = 0;
  #timer: NodeJS.Timeout | null = null;
  #retry: NodeJS.Timeout | null = null;
  #stopped = false;
  #applying: Promise<void> = Promise.resolve();
  #firstConfirm: { promise: Promise<void>; resolve: () => void };

  constructor(opts: ChangeFeedOptions) {
    const maxStaleMs = opts.maxStaleMs ?? DEFAULT_MAX_STALE_MS;
    this.#o = {
      connectionString: opts.connectionString,
      maxStaleMs,
      heartbeatMs: opts.heartbeatMs ?? Math.min(DEFAULT_HEARTBEAT_MS, Math.max(10, Math.floor(maxStaleMs / 4))),
      backoffMinMs: opts.backoffMinMs ?? 100,
      backoffMaxMs: opts.backoffMaxMs ?? Math.max(200, Math.min(5000, Math.floor(maxStaleMs / 2))),
      now: opts.now ?? Date.now,
      random: opts.random ?? Math.random,
      log: opts.log ?? ((line) => logger("cluster").warn(line)),
    };
    this.freshness = new Freshness({ maxStaleMs, now: this.#o.now, log: this.#o.log });
    let resolve!: () => void;
    const promise = new Promise<void>((r) => (resolve = r));
    this.#firstConfirm = { promise, resolve };
  }

  /** The revisions as last read or announced (zeros before the first read; freshness refuses then). */
  revisions(): Revisions {
    return this.#revisions ?? { policy: 0, sessions: 0 };
  }

  /** Null while this replica may admit requests; otherwise why not (for the 503 and /readyz). */
  refusal(): string | null {
    return this.freshness.refusal();
  }

  onChange(fn: ChangeListener): () => void {
    this.#listeners.add(fn);
    return () => this.#listeners.delete(fn);
  }

  /** Starts connecting; the promise settles at the first confirmed read (it keeps retrying until then). */
  start(): Promise<void> {
    if (!this.#timer) {
      this.#timer = setInterval(() => this.#heartbeat(), this.#o.heartbeatMs);
      this.#timer.unref();
      void this.#connect();
    }
    return this.#firstConfirm.promise;
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearInterval(this.#timer);
    if (this.#retry) clearTimeout(this.#retry);
    const c = this.#client;
    this.#client = null;
    await c?.end().catch(() => undefined);
  }

  #heartbeat(): void {
    this.freshness.tick();
    if (this.#client && !this.#connecting) void this.#read();
  }

  async #connect(): Promise<void> {
    if (this.#stopped || this.#client || this.#connecting) return;
    this.#connecting = true;
    const client = new pg.Client({
      connectionString: this.#o.connectionString,
      application_name: "gatehouse-change-feed",
      keepAlive: true,
      connectionTimeoutMillis: Math.max(500, this.#o.maxStaleMs),
      // A read that hangs (a half-open connection) must end the connection, not freeze the feed.
      query_timeout: Math.max(500, this.#o.maxStaleMs),
    });
    client.on("error", () => this.#broken(client, "the change feed connection failed"));
    client.on("end", () => this.#broken(client, "the change feed connection closed"));
    client.on("notification", (msg) => {
      if (msg.channel !== CHANGE_CHANNEL || client !== this.#client) return;
      const hinted = parsePayload(msg.payload);
      if (hinted) this.#apply(hinted, false).catch(() => undefined);
      // The payload is a hint; the read confirms it (and anything folded or missed).
      void this.#read();
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${CHANGE_CHANNEL}`);
    } catch {
      this.#connecting = false;
      await client.end().catch(() => undefined);
      this.#scheduleReconnect("cannot reach the database for the change feed");
      return;
    }
    this.#connecting = false;
    if (this.#stopped) {
      await client.end().catch(() => undefined);
      return;
    }
    this.#client = client;
    this.#resetPending = true;
    void this.#read();
  }

  #broken(client: pg.Client, cause: string): void {
    if (client !== this.#client) return;
    this.#client = null;
    client.end().catch(() => undefined);
    this.#scheduleReconnect(cause);
  }

  #scheduleReconnect(cause: string): void {
    this.freshness.lost(cause);
    if (this.#stopped || this.#retry) return;
    const base = Math.min(this.#o.backoffMaxMs, this.#o.backoffMinMs * 2 ** this.#failures);
    this.#failures = Math.min(this.#failures + 1, 30);
    // Full jitter on the upper half: replicas that lost the database together do not return in step.
    const delay = Math.round(base / 2 + (this.#o.random() * base) / 2);
    this.#retry = setTimeout(() => {
      this.#retry = null;
      void this.#connect();
    }, delay);
    this.#retry.unref();
  }

  /** One read at a time; a request for another while one runs makes it run once more after. */
  #read(): Promise<void> {
    if (this.#reading) {
      this.#readAgain = true;
      return this.#reading;
    }
    this.#reading = (async () => {
      try {
        do {
          this.#readAgain = false;
          await this.#readOnce();
        } while (this.#readAgain && this.#client);
      } finally {
        this.#reading = null;
      }
    })();
    return this.#reading;
  }

  async #readOnce(): Promise<void> {
    const client = this.#client;
    if (!client) return;
    const startedAt = this.#o.now();
    const reset = this.#resetPending;
    let row: { policy_revision: number | string; sessions_revision: number | string; listening: boolean } | undefined;
    try {
      row = (await client.query(HEARTBEAT_SQL)).rows[0];
    } catch {
      this.#broken(client, "a revision read failed");
      return;
    }
    if (client !== this.#client) return;
    if (!row) {
      this.freshness.lost("the settings row is missing (database not initialised)");
      return;
    }
    if (!row.listening) {
      this.#broken(client, "the change feed connection stopped listening");
      return;
    }
    try {
      await this.#apply({ policy: Number(row.policy_revision), sessions: Number(row.sessions_revision) }, reset);
    } catch (err) {
      // A cache that cannot reload is not current: keep refusing until a later read succeeds.
      this.freshness.lost(`reloading after a change failed (${(err as Error).message.slice(0, 200)})`);
      return;
    }
    if (client !== this.#client) return;
    if (reset) this.#resetPending = false;
    this.#failures = 0;
    this.freshness.confirm(startedAt);
    this.#firstConfirm.resolve();
  }

  /** Applies in arrival order; a read that confirms waits for every earlier apply too. */
  #apply(next: Revisions, reset: boolean): Promise<void> {
    const run = this.#applying.catch(() => undefined).then(() => this.#applyNow(next, reset));
    this.#applying = run;
    return run;
  }

  async #applyNow(next: Revisions, reset: boolean): Promise<void> {
    const before = this.#revisions;
    let now = next;
    // Revisions only move forward between resets: a late hint never rolls one back.
    if (!reset && before) now = { policy: Math.max(before.policy, next.policy), sessions: Math.max(before.sessions, next.sessions) };
    if (!reset && before && before.policy === now.policy && before.sessions === now.sessions) return;
    // Taken as current only once every listener reloaded: a failed reload is retried by the next read.
    await Promise.all([...this.#listeners].map(async (fn) => fn(now, before, reset)));
    this.#revisions = now;
  }
}

function parsePayload(payload: string | undefined): Revisions | null {
  if (!payload || payload.length > MAX_PAYLOAD) return null;
  try {
    const v = JSON.parse(payload) as { policy?: unknown; sessions?: unknown };
    if (Number.isSafeInteger(v.policy) && Number.isSafeInteger(v.sessions))
      return { policy: v.policy as number, sessions: v.sessions as number };
  } catch {
    // not ours: the read that follows decides
  }
  return null;
}
