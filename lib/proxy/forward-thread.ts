// The forward-proxy listener on its own thread: its own event loop and core, away from Next's
// (whose AsyncLocalStorage bookkeeping every proxied request would otherwise pay for), and a
// second CPU core for egress. It shares only the database with the rest of the process.
import { parentPort } from "node:worker_threads";
import { database } from "../../db/client";
import { readEnv } from "../env";
import { loadMasterKey, Vault } from "../vault";
import { startProxy } from "./index";

async function main(): Promise<void> {
  const env = readEnv();
  const { key } = loadMasterKey(env.dataDir, env.masterKey, { create: false });
  const proxy = await startProxy({ db: database(env.dataDir), vault: new Vault(key), env, now: Date.now });
  await proxy.listen();
  parentPort!.postMessage({ type: "listening", port: proxy.port() });
  parentPort!.on("message", (m: { type: string }) => {
    if (m.type === "close") void proxy.close().then(() => parentPort!.postMessage({ type: "closed" }));
  });
}

main().catch((err: Error & { code?: string }) => parentPort!.postMessage({ type: "error", message: err.code ? `${err.code}` : err.message }));
