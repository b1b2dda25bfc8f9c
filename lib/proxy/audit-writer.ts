// Group commit for egress events: requests that arrive together share one transaction, and each
// waits for the commit that holds its event before its first byte goes upstream.
import type { Db } from "../../db/client";
import { writeTransaction } from "../../db/tx";
import { appendAuditEvents, type AuditEventInput } from "../audit";

type Pending = { event: AuditEventInput & { id?: string; ts?: number }; resolve: () => void; reject: (err: Error) => void };

export class EgressAuditWriter {
  #queue: Pending[] = [];
  #scheduled = false;
  readonly #db: Db;
  failures = 0;

  constructor(db: Db) {
    this.#db = db;
  }

  /** Resolves once the event is committed. */
  append(event: AuditEventInput & { id?: string; ts?: number }): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ event, resolve, reject });
      if (!this.#scheduled) {
        this.#scheduled = true;
        setImmediate(() => this.#flush());
      }
    });
  }

  /** Fire and forget (completion records): errors are counted, never thrown at a request. */
  appendLater(event: AuditEventInput): void {
    this.append(event).catch(() => {
      this.failures++;
    });
  }

  #flush(): void {
    this.#scheduled = false;
    const batch = this.#queue;
    this.#queue = [];
    if (batch.length === 0) return;
    try {
      writeTransaction(this.#db, () => appendAuditEvents(this.#db, batch.map((p) => p.event)));
      for (const p of batch) p.resolve();
    } catch (err) {
      for (const p of batch) p.reject(err as Error);
    }
  }

  /** Commits whatever is queued (shutdown). */
  drain(): void {
    this.#flush();
  }
}
