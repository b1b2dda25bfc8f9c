// Entry of the audit importer thread (see importer.ts).
import { parentPort, workerData } from "node:worker_threads";
import { checkpointWal, closeDatabase, leaveCheckpointsToImporter, openDatabase, openPostgres } from "../../db/client";
import { importJournals } from "./journal";
import { logger } from "../log";

const log = logger("audit");

// Each pass takes lines older than HOLD_MS: a request shorter than that has its completion taken
// along, and the two become one event (a chain insert costs ~100 µs of this thread's CPU, most
// of it the search index). At 50 ms, 12% of bench:proxy's requests (c=64, p50 40–70 ms) were
// two events; readers import first (holdMs 0), so the hold delays no one who reads the log.
const IMPORT_EVERY_MS = 50;
const HOLD_MS = 250;
const CHECKPOINT_EVERY_MS = 1000;

const { dataDir, databaseUrl } = workerData as { dataDir: string; databaseUrl?: string };
const db = databaseUrl ? openPostgres(databaseUrl, { max: 2 }) : openDatabase(dataDir);
// This thread checkpoints on its own schedule; a commit here must not start one too.
leaveCheckpointsToImporter(db);

let failing = false;
async function importNow(holdMs = HOLD_MS): Promise<void> {
  try {
    await importJournals(db, dataDir, { holdMs });
    failing = false;
  } catch (err) {
    // Busy, the database away or a disk problem: the lines stay in the journal and the next pass tries again.
    if (!failing) log.error(`importing the egress journal failed (${(err as Error).message}); retrying`);
    failing = true;
  }
}

// One pass at a time: the next starts IMPORT_EVERY_MS after the last one ended.
let stopping = false;
let importTimer: NodeJS.Timeout | undefined;
let running: Promise<void> = Promise.resolve();
function schedule(): void {
  importTimer = setTimeout(() => {
    running = importNow().finally(() => {
      if (!stopping) schedule();
    });
  }, IMPORT_EVERY_MS);
}
schedule();
const checkpointTimer = setInterval(() => {
  checkpointWal(db).catch(() => {
    // busy: the next tick tries again
  });
}, CHECKPOINT_EVERY_MS);

parentPort!.on("message", (m) => {
  if (m !== "stop") return;
  stopping = true;
  clearTimeout(importTimer);
  clearInterval(checkpointTimer);
  void running
    .then(() => importNow(0))
    .then(() => closeDatabase(db))
    .finally(() => process.exit(0));
});
