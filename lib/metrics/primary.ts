// Figures only the main process reads, from the database and the data directory, at scrape time:
// open sessions, the egress journal's import backlog, and the audit chain's verification.
import fs from "node:fs";
import path from "node:path";
import type { Db } from "../../db/client";
import { journalOffsets } from "../../db/queries/audit";
import { countActiveSessions } from "../../db/queries/sessions";
import { verifyAuditLog, type VerifiedPoint } from "../audit";
import { journalDir } from "../audit/journal";
import { sinkLag } from "../services/sinks/lag";
import { registerGauge } from "./index";

const JOURNAL_FILE = /^egress-\d+-[0-9a-f]+-\d+\.jsonl$/;
/** Events verified per scrape at most: a long chain is caught up over several scrapes. */
const VERIFY_PER_SCRAPE = 100_000;

export type JournalBacklog = { bytes: number; oldestMs: number | null };

/** Unimported journal bytes, and when the oldest of them was written. */
export async function journalBacklog(db: Db, dataDir: string): Promise<JournalBacklog> {
  const dir = journalDir(dataDir);
  let names: string[];
  try {
    names = fs.readdirSync(dir).filter((n) => JOURNAL_FILE.test(n));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return { bytes: 0, oldestMs: null };
    throw err;
  }
  const offsets = journalOffsets(db);
  let bytes = 0;
  let oldestMs: number | null = null;
  for (const name of names) {
    let st: fs.Stats;
    try {
      st = fs.statSync(path.join(dir, name));
    } catch {
      continue; // imported and removed meanwhile
    }
    const waiting = st.size - (await offsets.offset(name));
    if (waiting <= 0) continue;
    bytes += waiting;
    oldestMs = Math.min(oldestMs ?? Infinity, st.mtimeMs);
  }
  return { bytes, oldestMs };
}

/** Walks the chain on from where the last scrape stopped; remembers when it last reached the head intact. */
export class ChainWatch {
  #point: VerifiedPoint | undefined;
  #verifiedAt: number | null = null;
  #ok = true;
  readonly #startedAt: number;
  constructor(
    private readonly db: Db,
    private readonly now: () => number,
  ) {
    this.#startedAt = now();
  }
  async check(): Promise<{ ok: boolean; ageSeconds: number }> {
    if (this.#ok) {
      const state = await verifyAuditLog(this.db, this.#point, VERIFY_PER_SCRAPE);
      if (!state.ok) this.#ok = false;
      else {
        if (state.events > 0) this.#point = { seq: state.lastSeq, hash: state.lastHash };
        if (state.events < VERIFY_PER_SCRAPE) this.#verifiedAt = this.now();
      }
    }
    // Once broken, it stays broken for this process: the age grows until someone looks.
    return { ok: this.#ok, ageSeconds: (this.now() - (this.#verifiedAt ?? this.#startedAt)) / 1000 };
  }
}

/** One read shared by the gauges of one scrape (they collect within moments of each other). */
function oncePerScrape<T>(read: () => Promise<T>, now: () => number, windowMs = 1000): () => Promise<T> {
  let last: { at: number; value: Promise<T> } | null = null;
  return () => {
    const t = now();
    if (!last || t - last.at > windowMs) last = { at: t, value: read() };
    return last.value;
  };
}

let registered = false;

export function registerPrimaryMetrics(db: Db, dataDir: string, now: () => number = Date.now): void {
  if (registered) return;
  registered = true;
  registerGauge({
    name: "gatehouse_sessions_open",
    help: "Sessions that are neither revoked, expired nor idle past their timeout",
    async collect() {
      this.set(await countActiveSessions(db, now()));
    },
  });
  // A registry collects its metrics one after another, so a gauge never fills another's value
  // (that one would show a scrape late): each collects for itself, from one read per scrape.
  const backlog = oncePerScrape(() => journalBacklog(db, dataDir), now);
  registerGauge({
    name: "gatehouse_audit_journal_backlog_bytes",
    help: "Egress journal bytes written by the proxy and not yet imported into the audit chain",
    async collect() {
      this.set((await backlog()).bytes);
    },
  });
  registerGauge({
    name: "gatehouse_audit_import_lag_seconds",
    help: "Age of the oldest egress journal record not yet imported into the audit chain (0 when none waits)",
    async collect() {
      const b = await backlog();
      this.set(b.oldestMs === null ? 0 : Math.max(0, (now() - b.oldestMs) / 1000));
    },
  });
  const watch = new ChainWatch(db, now);
  const chain = oncePerScrape(() => watch.check(), now);
  registerGauge({
    name: "gatehouse_audit_chain_valid",
    help: "1 while every audit event verified so far links to the one before it and matches its hash; 0 once one does not",
    async collect() {
      this.set((await chain()).ok ? 1 : 0);
    },
  });
  registerGauge({
    name: "gatehouse_audit_chain_verified_age_seconds",
    help: "Seconds since this process last verified the audit chain up to its head (grows when verification fails or falls behind)",
    async collect() {
      this.set((await chain()).ageSeconds);
    },
  });
  // Each gauge reads the cursors itself: a registry collects its metrics one after another, so
  // one gauge filling another would show the other a scrape late. A removed sink's series goes.
  registerGauge({
    name: "gatehouse_stream_delivery_lag_events",
    help: "Audit events not yet delivered to each stream sink",
    labelNames: ["sink"] as const,
    async collect() {
      this.reset();
      for (const s of await sinkLag(db, now())) this.set({ sink: s.name }, s.events);
    },
  });
  registerGauge({
    name: "gatehouse_stream_delivery_lag_seconds",
    help: "Age of the oldest audit event not yet delivered to each stream sink (0 when it is caught up)",
    labelNames: ["sink"] as const,
    async collect() {
      this.reset();
      for (const s of await sinkLag(db, now())) this.set({ sink: s.name }, s.seconds);
    },
  });
}
