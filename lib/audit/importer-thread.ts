// Entry of the audit importer thread (see importer.ts).
import { parentPort, workerData } from "node:worker_threads";
import { checkpointWal, leaveCheckpointsToImporter, openDatabase } from "../../db/client";
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

const { dataDir } = workerData as { dataDir: string };
const db = openDatabase(dataDir);
// This thread checkpoints on its own schedule; a commit here must not start one too.
leaveCheckpointsToImporter(db);

let failing = false;
function importNow(holdMs = HOLD_MS): void {
  try {
    importJournals(db, dataDir, { holdMs });
    failing = false;
  } catch (err) {
    // Busy or a disk problem: the lines stay in the journal and the next tick tries again.
    if (!failing) log.error(`importing the egress journal failed (${(err as Error).message}); retrying`);
    failing = true;
  }
}

const importTimer = setInterval(() => importNow(), IMPORT_EVERY_MS);
const checkpointTimer = setInterval(() => {
  try {
    checkpointWal(db);
  } catch {
    // busy: the next tick tries again
  }
}, CHECKPOINT_EVERY_MS);

parentPort!.on("message", (m) => {
  if (m !== "stop") return;
  clearInterval(importTimer);
  clearInterval(checkpointTimer);
  importNow(0);
  db.$client.close();
  process.exit(0);
});
