// One answer for the whole Gatehouse process tree: the main process asks every proxy worker
// (node:cluster) for its registry as JSON over the cluster's IPC channel and merges them with
// its own (prom-client's AggregatorRegistry: counters, gauges and histogram buckets add up).
// A worker asked for /metrics on the proxy port asks the main process for that merged text.
import cluster from "node:cluster";
import { AggregatorRegistry } from "prom-client";
import { logger } from "../log";
import { registry } from "./index";

type MetricJson = Awaited<ReturnType<typeof registry.getMetricsAsJSON>>;
type ToWorker = { type: "gatehouse:metrics-snapshot"; id: number } | { type: "gatehouse:metrics-text"; id: number; text: string | null };
type ToPrimary = { type: "gatehouse:metrics-snapshot"; id: number; metrics: MetricJson } | { type: "gatehouse:metrics-scrape"; id: number };

/** A worker that does not answer in this time is left out of that scrape (and logged). */
const WORKER_ANSWER_MS = 2000;

let nextId = 1;
const pendingSnapshots = new Map<number, { waiting: number; got: MetricJson[]; done: () => void }>();
let primaryListening = false;

/** Main process: the merged text of this process and every live worker. */
export async function clusterMetricsText(): Promise<string> {
  const own = await registry.getMetricsAsJSON();
  const workers = Object.values(cluster.workers ?? {}).filter((w) => w?.isConnected());
  const got: MetricJson[] = [own];
  if (workers.length) {
    const id = nextId++;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        pendingSnapshots.delete(id);
        logger("metrics").warn(
          `${entry.waiting} proxy worker(s) did not send their metrics within ${WORKER_ANSWER_MS} ms; this scrape leaves them out`,
        );
        resolve();
      }, WORKER_ANSWER_MS);
      const entry = {
        waiting: workers.length,
        got,
        done: () => {
          clearTimeout(timer);
          pendingSnapshots.delete(id);
          resolve();
        },
      };
      pendingSnapshots.set(id, entry);
      for (const w of workers)
        w!.send(
          { type: "gatehouse:metrics-snapshot", id } satisfies ToWorker,
          (err: Error | null) => err && --entry.waiting === 0 && entry.done(),
        );
    });
  }
  return AggregatorRegistry.aggregate(got).metrics();
}

/** Main process, once: answers workers' snapshots and their scrape requests. */
export function listenToWorkers(): void {
  if (primaryListening || !cluster.isPrimary) return;
  primaryListening = true;
  cluster.on("message", (worker, m: ToPrimary) => {
    if (m?.type === "gatehouse:metrics-snapshot") {
      const p = pendingSnapshots.get(m.id);
      if (!p) return;
      p.got.push(m.metrics);
      if (--p.waiting === 0) p.done();
    } else if (m?.type === "gatehouse:metrics-scrape") {
      clusterMetricsText().then(
        (text) => worker.isConnected() && worker.send({ type: "gatehouse:metrics-text", id: m.id, text } satisfies ToWorker),
        () => worker.isConnected() && worker.send({ type: "gatehouse:metrics-text", id: m.id, text: null } satisfies ToWorker),
      );
    }
  });
}

const pendingScrapes = new Map<number, (text: string | null) => void>();
let workerListening = false;

/** Proxy worker, once: sends its registry when the main process asks. */
export function answerPrimary(): void {
  if (workerListening || !cluster.isWorker) return;
  workerListening = true;
  process.on("message", (m: ToWorker) => {
    if (m?.type === "gatehouse:metrics-snapshot") {
      void registry
        .getMetricsAsJSON()
        .then((metrics) => process.send?.({ type: "gatehouse:metrics-snapshot", id: m.id, metrics } satisfies ToPrimary));
    } else if (m?.type === "gatehouse:metrics-text") {
      pendingScrapes.get(m.id)?.(m.text);
      pendingScrapes.delete(m.id);
    }
  });
}

/** Proxy worker: the whole tree's text, from the main process (null if it did not answer). */
export function scrapeThroughPrimary(): Promise<string | null> {
  if (!process.send) return registry.metrics();
  const id = nextId++;
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      pendingScrapes.delete(id);
      resolve(null);
    }, WORKER_ANSWER_MS * 2);
    pendingScrapes.set(id, (text) => {
      clearTimeout(timer);
      resolve(text);
    });
    process.send!({ type: "gatehouse:metrics-scrape", id } satisfies ToPrimary);
  });
}
