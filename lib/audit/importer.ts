// The background half of the egress journal (journal.ts): a thread in the main process that
// moves journal lines into the chain every 50 ms, and checkpoints the WAL once a
// second, so neither ever runs on a thread that serves requests.
import path from "node:path";
import { Worker } from "node:worker_threads";
import { logger } from "../log";

export type AuditImporter = { stop(): Promise<void> };

export function startAuditImporter(dataDir: string, databaseUrl?: string): AuditImporter {
  // Workers do not inherit tsx's loader: register it, then load the TypeScript entry.
  const bootstrap = `require("tsx/cjs/api").register(); require(${JSON.stringify(path.join(__dirname, "importer-thread.ts"))});`;
  const worker = new Worker(bootstrap, { eval: true, workerData: { dataDir, databaseUrl } });
  let exited = false;
  worker.on("error", (err) => logger("audit").error(`the audit importer stopped: ${err.message}; readers still import before they read`));
  worker.once("exit", () => (exited = true));
  return {
    stop: () =>
      new Promise<void>((resolve) => {
        if (exited) return resolve();
        worker.once("exit", () => resolve());
        worker.postMessage("stop");
      }),
  };
}
