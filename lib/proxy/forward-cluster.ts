// The forward proxy as node:cluster workers (forward-process.ts), by default one per core less
// one, all accepting on the one proxy port. A worker that dies is replaced; stopping asks each to
// finish its audit writes and close.
import cluster, { type Worker } from "node:cluster";
import path from "node:path";
import type { FromWorker } from "./forward-process";
import { ProxyStartError } from "./index";
import { logger } from "../log";

const log = logger("proxy");

export type ForwardProxies = { port: number; close(): Promise<void> };

const CLOSE_GRACE_MS = 3000;
/** A worker that dies sooner than this after starting is not restarted in a tight loop. */
const RESTART_BACKOFF_MS = 1000;

export async function startForwardProxies(count: number): Promise<ForwardProxies> {
  // Each worker accepts on the shared socket itself, rather than this process (which also
  // serves the dashboard) accepting every connection and handing it over.
  cluster.schedulingPolicy = cluster.SCHED_NONE;
  cluster.setupPrimary({ exec: path.join(__dirname, "forward-process.ts"), execArgv: tsxExecArgv() });

  let stopping = false;
  let port = 0;
  const live = new Set<Worker>();

  const spawn = (): Promise<number> =>
    new Promise((resolve, reject) => {
      // DNS lookups run on libuv's thread pool (4 threads by default), and a lookup that hangs
      // holds its thread past the resolver's timeout: more threads, so a few slow names do not
      // stall every other lookup (and zlib) in the worker. An operator's own setting is Node's, not Gatehouse's.
      // eslint-disable-next-line no-restricted-properties
      const worker = cluster.fork({ UV_THREADPOOL_SIZE: process.env.UV_THREADPOOL_SIZE ?? "16" });
      const started = Date.now();
      live.add(worker);
      worker.on("message", (m: FromWorker) => {
        if (m.type === "listening") resolve(m.port);
        if (m.type === "error") reject(new ProxyStartError(m.message));
      });
      worker.once("exit", (code, signal) => {
        live.delete(worker);
        reject(new ProxyStartError(`the proxy worker exited (${signal ?? code}) before listening`));
        if (stopping) return;
        log.error(`proxy worker ${worker.process.pid} exited (${signal ?? code}); starting another`);
        const delay = Date.now() - started < RESTART_BACKOFF_MS ? RESTART_BACKOFF_MS : 0;
        setTimeout(() => {
          if (!stopping) void spawn().catch((err: Error) => log.error(`proxy worker failed to start: ${err.message}`));
        }, delay).unref();
      });
    });

  try {
    // The first one binds (port 0 picks a port); the others join the same socket.
    port = await spawn();
    await Promise.all(Array.from({ length: count - 1 }, spawn));
  } catch (err) {
    stopping = true;
    for (const w of live) w.kill();
    throw err;
  }

  return {
    port,
    close: async () => {
      stopping = true;
      await Promise.all(
        [...live].map(
          (w) =>
            new Promise<void>((done) => {
              const timer = setTimeout(() => w.kill("SIGKILL"), CLOSE_GRACE_MS);
              w.once("exit", () => {
                clearTimeout(timer);
                done();
              });
              w.on("message", (m: FromWorker) => {
                if (m.type === "closed") w.disconnect();
              });
              w.send({ type: "close" });
            }),
        ),
      );
    },
  };
}

/** The workers run the TypeScript entry through tsx, like this process. */
function tsxExecArgv(): string[] {
  const argv = process.execArgv;
  for (let i = 0; i < argv.length; i++) if (/^--(import|require|loader)$/.test(argv[i]!) && /tsx/.test(argv[i + 1] ?? "")) return argv;
  return [...argv, "--import", "tsx"];
}
