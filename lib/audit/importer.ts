// The background half of the egress journal (journal.ts): a thread in the main process that
// moves journal lines into the chain every 50 ms, and checkpoints the WAL once a
// second, so neither ever runs on a thread that serves requests.
import path from "node:path";
import { Worker } from "node:worker_threads";
import { logger } from "../log";

export type AuditImporter = { stop(): Promise<void> };

/** A thread that died (e.g. its database connection broke mid-transaction) is started again after this. */
const RESTART_AFTER_MS = 1_000;

export function startAuditImporter(dataDir: string, databaseUrl?: string): AuditImporter {
  // Workers do not inherit tsx's loader: register it, then load the TypeScript entry.
  const bootstrap = `require("tsx/cjs/api").register(); require(${JSON.stringify(path.join(__dirname, "importer-thread.ts"))});`;
  let stopping = false;
  let worker: Worker;
  let exited = false;
  let restart: NodeJS.Timeout | undefined;
  const start = () => {
    exited = false;
    worker = new Worker(bootstrap, { eval: true, workerData: { dataDir, databaseUrl } });
    worker.on("error", (err) =>
      logger("audit").error(`the audit importer stopped: ${err.message}; starting it again (readers still import before they read)`),
    );
    worker.once("exit", () => {
      exited = true;
      // A PostgreSQL outage can end the thread; the journal keeps every line meanwhile.
      if (!stopping) restart = setTimeout(start, RESTART_AFTER_MS);
    });
  };
  start();
  return {
    stop: () =>
      new Promise<void>((resolve) => {
        stopping = true;
        clearTimeout(restart);
        if (exited) return resolve();
        worker.once("exit", () => resolve());
        worker.postMessage("stop");
      }),
  };
}
