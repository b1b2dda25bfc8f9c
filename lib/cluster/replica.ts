// What a replica on PostgreSQL adds to the proxy: the revisions come from the change feed
// (in memory, no round trip per request), and a replica that cannot confirm them is refused
// requests with 503 policy_unavailable until it can. On SQLite there is no feed: every process
// reads the one file, which is always current.
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { ChangeFeed, type ChangeFeedOptions, type Revisions } from "./change-feed";
import { PolicyStaleError, registerFreshness } from "./stale";

export { PolicyStaleError };

/** The proxy's per-request revisions read, answered from memory; throws while stale. */
export function feedRevisions(feed: Pick<ChangeFeed, "refusal" | "revisions">): () => Revisions {
  return () => {
    const refusal = feed.refusal();
    if (refusal) throw new PolicyStaleError(refusal);
    return feed.revisions();
  };
}

/** GATEHOUSE_CHANGE_FEED_MAX_STALE_MS: how long a replica may go without confirming it is current. */
export function feedOptionsFromEnv(source: Record<string, string | undefined> = process.env): Pick<ChangeFeedOptions, "maxStaleMs"> {
  const raw = source.GATEHOUSE_CHANGE_FEED_MAX_STALE_MS;
  if (raw === undefined || raw === "") return {};
  const ms = Number(raw);
  if (!Number.isSafeInteger(ms) || ms < 100 || ms > 600_000)
    throw new Error("GATEHOUSE_CHANGE_FEED_MAX_STALE_MS must be whole milliseconds between 100 and 600000");
  return { maxStaleMs: ms };
}

const feeds = new Map<string, ChangeFeed>();
/** One feed per database URL per process (each proxy worker process has its own connection); not started. */
export function changeFeed(connectionString: string, opts: Omit<ChangeFeedOptions, "connectionString"> = {}): ChangeFeed {
  let feed = feeds.get(connectionString);
  if (!feed) {
    feed = new ChangeFeed({ connectionString, ...feedOptionsFromEnv(), ...opts });
    feeds.set(connectionString, feed);
  }
  return feed;
}

/** What the proxy reloads when the feed says something changed (the caches it keeps in memory). */
export type ReplicaCaches = { policy: { load(): Promise<unknown> }; sessions?: { reload?(revision: number): Promise<unknown> } };

/**
 * The proxy's deps on a replica: its caches reload on every change (and on every re-read after a
 * reconnect) before the new revisions are handed out, so a request never sees a revision whose
 * policy is not loaded. Waits up to `firstReadMs` for the first confirmed read; after that the
 * replica starts anyway and refuses requests until the feed confirms.
 */
export async function replicaProxyDeps(connectionString: string, caches: ReplicaCaches, firstReadMs = 10_000) {
  const feed = changeFeed(connectionString);
  feed.onChange(async (now, before, reset) => {
    const all = reset || !before;
    await Promise.all([
      all || now.policy !== before.policy ? caches.policy.load() : null,
      all || now.sessions !== before.sessions ? caches.sessions?.reload?.(now.sessions) : null,
    ]);
  });
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([feed.start(), new Promise((r) => (timer = setTimeout(r, firstReadMs)))]);
  clearTimeout(timer);
  registerFreshness(() => feed.refusal());
  return { revisions: feedRevisions(feed), changes: feed, feed };
}

/** For /readyz: null when current, else why not (no database error text). */
export function feedProblem(connectionString: string | undefined): string | null {
  if (!connectionString) return null;
  const feed = feeds.get(connectionString);
  return feed ? feed.refusal() : null;
}

/**
 * This replica's id: random, kept in the data directory, so a restart on the same directory is
 * the same replica (its journal files, its place in the audit import).
 */
export function replicaId(dataDir: string): string {
  const file = path.join(dataDir, "replica-id");
  try {
    const id = fs.readFileSync(file, "utf8").trim();
    if (/^[0-9a-f]{32}$/.test(id)) return id;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
  }
  const id = crypto.randomBytes(16).toString("hex");
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  try {
    fs.writeFileSync(file, id + "\n", { mode: 0o600, flag: "wx" });
    return id;
  } catch (err) {
    // Another process of this replica wrote it first: use theirs.
    if ((err as NodeJS.ErrnoException).code === "EEXIST") return fs.readFileSync(file, "utf8").trim();
    throw err;
  }
}
