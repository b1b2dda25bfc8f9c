// Group commit for egress events: requests that arrive together share one transaction, written
// by a worker thread that owns the audit writes; each request waits for the commit holding its
// event before its first byte goes upstream.
import path from "node:path";
import { Worker } from "node:worker_threads";
import type { AuditEventInput } from "../audit";

type Event = AuditEventInput & { id?: string; ts?: number };
type Pending = { event: Event; resolve: () => void; reject: (err: Error) => void };

const LAZY_FLUSH_MS = 20;

export class EgressAuditWriter {
  #queue: Pending[] = [];
  #scheduled = false;
  #lazyTimer: NodeJS.Timeout | null = null;
  #nextBatch = 1;
  readonly #inFlight = new Map<number, Pending[]>();
  readonly #worker: Worker;
  failures = 0;

  constructor(dataDir: string) {
    // Workers do not inherit tsx's loader: register it, then load the TypeScript entry.
    const bootstrap = `require("tsx/cjs/api").register(); require(${JSON.stringify(path.join(__dirname, "audit-worker.ts"))});`;
    this.#worker = new Worker(bootstrap, { eval: true, workerData: { dataDir } });
    this.#worker.on("message", (m: { id: number; ok: boolean; error?: string }) => {
      const batch = this.#inFlight.get(m.id);
      this.#inFlight.delete(m.id);
      for (const p of batch ?? []) {
        if (m.ok) p.resolve();
        else p.reject(new Error(m.error ?? "audit write failed"));
      }
    });
    this.#worker.on("error", (err) => {
      for (const batch of this.#inFlight.values()) for (const p of batch) p.reject(err);
      this.#inFlight.clear();
    });
  }

  /** Resolves once the event is committed. */
  append(event: Event): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ event, resolve, reject });
      if (!this.#scheduled) {
        this.#scheduled = true;
        setImmediate(() => this.#flush());
      }
    });
  }

  /**
   * Fire and forget (completion records): nothing waits on them, so they gather for a few
   * milliseconds and ride along with the next commit. Errors are counted, never thrown at a request.
   */
  appendLater(event: Event): void {
    new Promise<void>((resolve, reject) => {
      this.#queue.push({ event, resolve, reject });
      if (!this.#scheduled && !this.#lazyTimer) {
        this.#lazyTimer = setTimeout(() => {
          this.#lazyTimer = null;
          if (!this.#scheduled) this.#flush();
        }, LAZY_FLUSH_MS);
      }
    }).catch(() => {
      this.failures++;
    });
  }

  #flush(): void {
    this.#scheduled = false;
    if (this.#lazyTimer) {
      clearTimeout(this.#lazyTimer);
      this.#lazyTimer = null;
    }
    const batch = this.#queue;
    this.#queue = [];
    if (batch.length === 0) return;
    const id = this.#nextBatch++;
    this.#inFlight.set(id, batch);
    this.#worker.postMessage({ id, events: batch.map((p) => p.event) });
  }

  /** Commits whatever is queued and waits for the worker (shutdown). */
  async drain(): Promise<void> {
    this.#flush();
    while (this.#inFlight.size > 0) await new Promise((r) => setTimeout(r, 10));
    await this.#worker.terminate();
  }
}
