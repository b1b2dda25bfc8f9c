// Gatehouse's Prometheus metrics (GET /metrics; see README "Metrics"). Each process keeps its own
// registry; the main process merges every proxy worker's into one answer (cluster.ts), so each
// worker's figures count once. Off until enableMetrics(): the hooks below are then one branch.
//
// Other parts register their own metrics here (registerGauge, registerCounter, …) so that they
// land in the same registry and the same merge. Labels must come from bounded sets: an outcome,
// a code, a bundle or connection name (bounded by the policy), a sink name; never a host, a
// path or anything a sandbox chooses.
import client, {
  type Counter,
  type CounterConfiguration,
  type Gauge,
  type GaugeConfiguration,
  type Histogram,
  type HistogramConfiguration,
} from "prom-client";

export const registry = new client.Registry();

let enabled = false;
let defaultsCollected = false;

/** Turns counting on in this process (GATEHOUSE_METRICS_TOKEN is set). */
export function enableMetrics(): void {
  enabled = true;
  if (!defaultsCollected) {
    defaultsCollected = true;
    client.collectDefaultMetrics({ register: registry });
  }
}

export function metricsEnabled(): boolean {
  return enabled;
}

export function registerCounter<T extends string>(config: Omit<CounterConfiguration<T>, "registers">): Counter<T> {
  return new client.Counter({ ...config, registers: [registry] });
}

export function registerGauge<T extends string>(config: Omit<GaugeConfiguration<T>, "registers">): Gauge<T> {
  return new client.Gauge({ ...config, registers: [registry] });
}

export function registerHistogram<T extends string>(config: Omit<HistogramConfiguration<T>, "registers">): Histogram<T> {
  return new client.Histogram({ ...config, registers: [registry] });
}

// ── The proxy's figures (one call per event from lib/proxy) ────────────────────────────────

export type EgressOutcome = "credentialed" | "allowlisted" | "blocked";

const egressRequests = registerCounter({
  name: "gatehouse_egress_requests_total",
  help: "Egress requests decided, by outcome and by the bundle and connection that decided them (empty when none did)",
  labelNames: ["outcome", "bundle", "connection"] as const,
});

const overhead = registerHistogram({
  name: "gatehouse_proxy_overhead_seconds",
  help: "Time Gatehouse adds before a request goes upstream: from its arrival to the upstream request leaving (session, decision, audit journal, name resolution)",
  buckets: [0.0002, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
});

const upstreamFailures = registerCounter({
  name: "gatehouse_upstream_failures_total",
  help: "Upstream requests, tunnels and WebSocket upgrades that failed, by Gatehouse error code",
  labelNames: ["code"] as const,
});

const credentialDenials = registerCounter({
  name: "gatehouse_credential_upstream_denials_total",
  help: "Credentialed requests the upstream answered 401 or 403: a credential that expired, was revoked or lacks a permission",
  labelNames: ["bundle", "connection", "status"] as const,
});

const openTunnels = registerGauge({
  name: "gatehouse_open_tunnels",
  help: "CONNECT tunnels open now, blind or intercepted",
  labelNames: ["kind"] as const,
});

const openWebSockets = registerGauge({
  name: "gatehouse_open_websockets",
  help: "WebSockets relayed now",
});

/** Label sets per counter beyond this share one "_other" series: a policy is bounded, this bounds it twice. */
export const MAX_LABEL_SETS = 2000;
const OTHER = "_other";

type Inc = { inc(n?: number): void };
const egressChildren = new Map<string, Inc>();
const denialChildren = new Map<string, Inc>();
const failureChildren = new Map<string, Inc>();

function child(cache: Map<string, Inc>, key: string, make: () => Inc, other: () => Inc): Inc {
  let c = cache.get(key);
  if (c) return c;
  if (cache.size >= MAX_LABEL_SETS) return other();
  c = make();
  cache.set(key, c);
  return c;
}

export function countEgress(outcome: EgressOutcome, bundle: string | undefined, connection: string | undefined): void {
  if (!enabled) return;
  const b = bundle ?? "";
  const c = connection ?? "";
  child(
    egressChildren,
    `${outcome}\0${b}\0${c}`,
    () => egressRequests.labels(outcome, b, c),
    () => egressRequests.labels(outcome, OTHER, OTHER),
  ).inc();
}

const arrivals = new WeakMap<object, number>();

/** When a request arrived (monotonic), for observeOverhead. */
export function markArrival(req: object): void {
  if (enabled) arrivals.set(req, performance.now());
}

/** The request is leaving for its upstream: the time since markArrival is what Gatehouse added. */
export function observeOverhead(req: object): void {
  if (!enabled) return;
  const since = arrivals.get(req);
  if (since !== undefined) overhead.observe((performance.now() - since) / 1000);
}

export function countUpstreamFailure(code: string): void {
  if (!enabled) return;
  child(
    failureChildren,
    code,
    () => upstreamFailures.labels(code),
    () => upstreamFailures.labels(OTHER),
  ).inc();
}

export function countCredentialDenial(bundle: string, connection: string, status: number): void {
  if (!enabled || (status !== 401 && status !== 403)) return;
  child(
    denialChildren,
    `${bundle}\0${connection}\0${status}`,
    () => credentialDenials.labels(bundle, connection, String(status)),
    () => credentialDenials.labels(OTHER, OTHER, String(status)),
  ).inc();
}

export function tunnelOpened(kind: "blind" | "intercepted"): void {
  if (enabled) openTunnels.labels(kind).inc();
}

export function tunnelClosed(kind: "blind" | "intercepted"): void {
  if (enabled) openTunnels.labels(kind).dec();
}

export function webSocketOpened(): void {
  if (enabled) openWebSockets.inc();
}

export function webSocketClosed(): void {
  if (enabled) openWebSockets.dec();
}
