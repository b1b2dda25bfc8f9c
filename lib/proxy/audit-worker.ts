// Worker thread that owns the egress audit writes: hashing the chain and committing to SQLite
// happen here, off the proxy's event loop (checkpoints included). One message = one transaction.
import { parentPort, workerData } from "node:worker_threads";
import { openDatabase } from "../../db/client";
import { appendAuditEvents, type AuditEventInput } from "../audit";

type Batch = { id: number; events: (AuditEventInput & { id?: string; ts?: number })[] };

const db = openDatabase((workerData as { dataDir: string }).dataDir);
// Checkpoints copy the WAL into the database and fsync: do them here, on a timer, instead of
// inside whichever commit happens to cross the threshold.
db.$client.pragma("wal_autocheckpoint = 0");
setInterval(() => {
  try {
    db.$client.pragma("wal_checkpoint(PASSIVE)");
  } catch {
    // busy: the next tick tries again
  }
}, 1000).unref();

const append = db.$client.transaction((events: Batch["events"]) => appendAuditEvents(db, events));

parentPort!.on("message", (batch: Batch) => {
  try {
    append.immediate(batch.events);
    parentPort!.postMessage({ id: batch.id, ok: true });
  } catch (err) {
    parentPort!.postMessage({ id: batch.id, ok: false, error: (err as Error).message });
  }
});
