// One forward-proxy process (a node:cluster worker; see forward-cluster.ts). Several share the
// proxy port; they share nothing but the database, which already carries every
// piece of cross-process state (policy and session revisions, the audit chain, revocations).
import { database } from "../../db/client";
import { readEnv } from "../env";
import { loadMasterKey, Vault } from "../vault";
import { routeProcessOutput } from "../log";
import { enableMetrics } from "../metrics";
import { answerPrimary } from "../metrics/cluster";
import { startProxy } from "./index";

type FromPrimary = { type: "close" };
export type FromWorker = { type: "listening"; port: number } | { type: "closed" } | { type: "error"; message: string };

const send = (m: FromWorker) => process.send?.(m);

async function main(): Promise<void> {
  routeProcessOutput("proxy");
  // Ctrl-C reaches the whole process group; the primary decides when and how this one stops.
  process.on("SIGINT", () => {});
  process.on("SIGTERM", () => {});
  process.on("disconnect", () => process.exit(0));

  const env = readEnv();
  if (env.metricsToken) {
    enableMetrics();
    answerPrimary();
  }
  const { key } = loadMasterKey(env.dataDir, env.masterKey, { create: false });
  const proxy = await startProxy({ db: database(env.dataDir, env.databaseUrl), vault: new Vault(key), env, now: Date.now });
  await proxy.listen();
  send({ type: "listening", port: proxy.port() });
  process.on("message", (m: FromPrimary) => {
    if (m.type === "close") void proxy.close().then(() => send({ type: "closed" }));
  });
}

main().catch((err: Error & { code?: string }) => {
  send({ type: "error", message: err.code ?? err.message });
  process.exitCode = 1;
});
