// Impact preview: replay logged requests against the current policy and a draft with the same
// decide() the proxy uses, and count what would change. Pure: no I/O, no clock.
import type { CompiledPolicy, Decision, Outcome } from "./engine";
import type { Scheme } from "./normalize";

/** One distinct logged request, and how many logged events it stands for. */
export type ReplayRequest = {
  workspace: string;
  channel: string;
  method: string;
  scheme: Scheme;
  host: string;
  port: number;
  /** The path as logged (no query string); "" for a CONNECT. */
  path: string;
  count: number;
  /** The newest logged event of this request (its `seq`): what an example links to. */
  lastSeq: number;
  lastTs: number;
};

export type ReplaySide = { outcome: Outcome; rule: string; connection?: string };

export type ReplayExample = ReplayRequest & { before: ReplaySide; after: ReplaySide & { reason: string } };

export type ReplayTransition = {
  from: Outcome;
  to: Outcome;
  /** Distinct requests that change this way. */
  requests: number;
  /** Logged events behind them. */
  events: number;
  /** The most frequent ones first. */
  examples: ReplayExample[];
};

export type ReplayResult = {
  requests: number;
  events: number;
  changedRequests: number;
  changedEvents: number;
  transitions: ReplayTransition[];
};

const OUTCOME_ORDER: Record<Outcome, number> = { credentialed: 0, allowlisted: 1, blocked: 2 };

function side(d: Decision): ReplaySide {
  return d.connection ? { outcome: d.outcome, rule: d.rule, connection: d.connection.identity } : { outcome: d.outcome, rule: d.rule };
}

/**
 * The request as the proxy decided it: a CONNECT is decided on "/" (see the proxy's CONNECT
 * handler); the method-override headers are not logged, so a replay assumes none.
 */
function decideLogged(policy: CompiledPolicy, r: ReplayRequest): Decision {
  const connect = r.method === "CONNECT";
  return policy.decide(r.workspace, r.channel, {
    method: r.method,
    scheme: r.scheme,
    host: r.host,
    port: r.port,
    path: connect || r.path === "" ? "/" : r.path,
    methodOverride: false,
  });
}

/** Whether the request would fare differently: another outcome, or another credential attached. */
function changed(a: Decision, b: Decision): boolean {
  if (a.outcome !== b.outcome) return true;
  return a.outcome === "credentialed" && a.connection?.identity !== b.connection?.identity;
}

/** Keeps the `limit` most frequent examples, newest first among equals. */
function keepTop(list: ReplayExample[], e: ReplayExample, limit: number): void {
  if (limit <= 0) return;
  const better = (x: ReplayExample, y: ReplayExample) => x.count > y.count || (x.count === y.count && x.lastSeq > y.lastSeq);
  if (list.length === limit && !better(e, list[limit - 1]!)) return;
  let i = list.length;
  while (i > 0 && better(e, list[i - 1]!)) i--;
  list.splice(i, 0, e);
  if (list.length > limit) list.pop();
}

/**
 * Replays each request against `before` and `after` and groups the ones whose outcome (or
 * attached credential) differs by transition, most events first.
 */
export function replayRequests(
  before: CompiledPolicy,
  after: CompiledPolicy,
  requests: Iterable<ReplayRequest>,
  options: { examples?: number } = {},
): ReplayResult {
  const limit = options.examples ?? 5;
  const byKey = new Map<string, ReplayTransition>();
  let total = 0;
  let events = 0;
  let changedRequests = 0;
  let changedEvents = 0;
  // Where no credential rule names the host in either policy, the path and method cannot change
  // the decision (only credential narrowings read them): decide once per host and channel.
  const byHost = new Map<string, [Decision, Decision]>();
  for (const r of requests) {
    total++;
    events += r.count;
    let a: Decision;
    let b: Decision;
    if (before.credentialMayApply(r.workspace, r.channel, r.host) || after.credentialMayApply(r.workspace, r.channel, r.host)) {
      a = decideLogged(before, r);
      b = decideLogged(after, r);
    } else {
      const key = `${r.workspace}\u0000${r.channel}\u0000${r.scheme}\u0000${r.host}\u0000${r.port}`;
      let pair = byHost.get(key);
      if (!pair) byHost.set(key, (pair = [decideLogged(before, r), decideLogged(after, r)]));
      [a, b] = pair;
    }
    if (!changed(a, b)) continue;
    changedRequests++;
    changedEvents += r.count;
    const key = `${a.outcome}>${b.outcome}`;
    let t = byKey.get(key);
    if (!t) byKey.set(key, (t = { from: a.outcome, to: b.outcome, requests: 0, events: 0, examples: [] }));
    t.requests++;
    t.events += r.count;
    if (limit > 0 && (t.examples.length < limit || r.count >= t.examples[t.examples.length - 1]!.count)) {
      keepTop(t.examples, { ...r, before: side(a), after: { ...side(b), reason: b.reason } }, limit);
    }
  }
  const transitions = [...byKey.values()].sort(
    (x, y) => y.events - x.events || OUTCOME_ORDER[x.from] - OUTCOME_ORDER[y.from] || OUTCOME_ORDER[x.to] - OUTCOME_ORDER[y.to],
  );
  return { requests: total, events, changedRequests, changedEvents, transitions };
}
