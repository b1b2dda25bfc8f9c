// The request pipeline, for every request that arrives as one (absolute-form HTTP, a request
// inside an intercepted tunnel, the embedded route):
//   admission (admission.ts: session, limits, token in the URL, decide, resolve/SSRF) →
//   journal → credential attached → relayed (relay.ts) → completion in the journal.
import type http from "node:http";
import type net from "node:net";
import { Readable } from "node:stream";
import type { Dispatcher } from "undici";
import type { Revisions } from "../../db/queries/settings";
import type { JournalRequest } from "../audit/journal";
import { decidedPath, hostHeader, type Decision, type Target } from "../policy";
import { admit, resolveAdmitted, sessionToFetch } from "./admission";
import { auditUnavailable, failed, journalFailed, policyUnavailable } from "./answers";
import type { Attempt, Entry, ProxyCore } from "./core";
import { egressEvent } from "./egress-audit";
import { upstreamRequestHeaders } from "./headers";
import { applyCredential, redactionNeedles } from "./inject";
import { countCredentialDenial, countEgress, markArrival, observeOverhead } from "../metrics";
import { Relay } from "./relay";
import { answer } from "./respond";
import type { SessionCheck } from "../sessions/verify";
import { reportOnlyHeader } from "./time-bound";
import { TokenBodyScan } from "./token";
import type { Secret } from "../vault";

/**
 * A request that arrived and waits to be admitted with the others of its turn of the event loop;
 * `check` when its session had to be read first (replicas: a token not yet in memory).
 */
type Arrival = {
  req: http.IncomingMessage;
  res: http.ServerResponse;
  entry: Entry;
  target: Target;
  requestId: string;
  token: string | null;
  check?: SessionCheck;
};

/** A request that was allowed, ready to be recorded and sent. */
type Outgoing = {
  req: http.IncomingMessage;
  res: http.ServerResponse;
  attempt: Attempt;
  /** The decision as it applies (allowlisted if the credential has gone). */
  decision: Decision;
  headers: Record<string, string | string[]>;
  hasBody: boolean;
  needles: string[];
  /** The connection whose credential was attached, if one was. */
  credential: string | null;
  /** Path and query as they go upstream: with a credential, the path that was decided on. */
  path: string;
};

/** What the proxy needs again when a relayed exchange is over. */
type RelayContext = { attempt: Attempt; decision: Decision; credential: string | null; again: Dispatcher.DispatchOptions | null };

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

export class Pipeline {
  readonly #c: ProxyCore;
  #arrivals: Arrival[] = [];

  constructor(core: ProxyCore) {
    this.#c = core;
  }

  /** Queues a request to be admitted at the end of this turn of the event loop (#admitArrivals). */
  arrive(req: http.IncomingMessage, res: http.ServerResponse, entry: Entry, target: Target, requestId: string, token: string | null): void {
    markArrival(req);
    this.#queue({ req, res, entry, target, requestId, token });
  }

  #queue(x: Arrival): void {
    this.#arrivals.push(x);
    if (this.#arrivals.length === 1) setImmediate(this.#admitArrivals);
  }

  /** Replicas: reads the session this replica does not hold yet, then admits the request with the next batch. */
  #fetchSession(x: Arrival, pending: Promise<SessionCheck>): void {
    pending.then(
      (check) => this.#queue({ ...x, check }),
      (err: unknown) => {
        x.req.resume();
        answer(x.res, policyUnavailable(x.requestId, err));
      },
    );
  }

  /**
   * Admits the requests that arrived in one turn of the event loop together: one read of the
   * policy and session revisions, taken after every one of them arrived (so whatever was
   * committed before a request arrived applies to it), and one journal write for all their
   * records before any of them goes upstream.
   */
  readonly #admitArrivals = (): void => {
    const arrivals = this.#arrivals;
    this.#arrivals = [];
    let revisions: Revisions;
    try {
      revisions = this.#c.revisions();
    } catch (err) {
      for (const x of arrivals) {
        x.req.resume();
        answer(x.res, policyUnavailable(x.requestId, err));
      }
      return;
    }
    const ready: Outgoing[] = [];
    for (const x of arrivals) {
      try {
        this.#admit(x, revisions, ready);
      } catch (err) {
        // What #admit reads (sessions, the compiled policy) comes from the database.
        x.req.resume();
        answer(x.res, policyUnavailable(x.requestId, err));
      }
    }
    if (ready.length === 0) return;
    const now = this.#c.d.now();
    let records: JournalRequest[];
    try {
      records = this.#c.d.audit.recordAll(ready.map((o) => egressEvent(o.attempt, o.decision, { status: null, now })));
    } catch (err) {
      journalFailed(err);
      for (const o of ready) {
        o.req.resume();
        answer(o.res, auditUnavailable(o.attempt.requestId));
      }
      return;
    }
    for (let i = 0; i < ready.length; i++) {
      const o = ready[i]!;
      o.attempt.journaled = records[i];
      countEgress(o.decision.outcome, o.decision.bundle, o.decision.connection?.name);
      try {
        this.#send(o);
      } catch {
        failed(o.res, o.attempt.requestId);
      }
    }
  };

  /** Admits (admission.ts); what may go out is added to `ready`, everything else is answered here. */
  #admit(x: Arrival, revisions: Revisions, ready: Outgoing[]): void {
    const { req, res } = x;
    const pending = x.check ? null : sessionToFetch(this.#c, x.token, revisions);
    if (pending) return this.#fetchSession(x, pending);
    // Inside a tunnel the connection was counted once, at its CONNECT.
    const connection = x.entry === "intercept" ? null : req.socket;
    const admitted = admit(
      this.#c,
      {
        requestId: x.requestId,
        token: x.token,
        method: (req.method ?? "GET").toUpperCase(),
        target: x.target,
        rawHeaders: req.rawHeaders,
        headers: req.headers,
        connection,
      },
      revisions,
      x.check,
    );
    if (!admitted.ok) {
      req.resume();
      return answer(res, admitted.answer);
    }
    const { attempt: a, decision } = admitted;
    // A kept-alive connection must not outlive the grant its last request rested on.
    this.#c.expiring.track(
      [req.socket, x.entry === "intercept" ? this.#c.tunnels.get(req.socket as net.Socket)?.clientSocket : null],
      decision,
    );
    // A host checked moments ago is answered from the resolver's cache; otherwise this request
    // waits for DNS and goes out on its own.
    if (this.#c.d.resolver.resolveCached(a.target.host)) return void ready.push(this.#prepare(req, res, a, decision));
    void this.#resolveThenSend(req, res, a, decision).catch(() => failed(res, x.requestId));
  }

  async #resolveThenSend(req: http.IncomingMessage, res: http.ServerResponse, a: Attempt, decision: Decision): Promise<void> {
    const resolved = await resolveAdmitted(this.#c, a, decision);
    if (!resolved.ok) {
      req.resume();
      return answer(res, resolved.answer);
    }
    const o = this.#prepare(req, res, a, decision);
    // Durable before the first byte goes upstream.
    if (!this.#c.audit.record(a, o.decision, {})) {
      req.resume();
      return answer(res, auditUnavailable(a.requestId));
    }
    this.#send(o);
  }

  /** The upstream request as it will go out: end-to-end headers, the canonical Host, the credential. */
  #prepare(req: http.IncomingMessage, res: http.ServerResponse, a: Attempt, decision: Decision): Outgoing {
    const { credentials } = this.#c;
    const { target } = a;
    const headers = upstreamRequestHeaders(req.headers, a.token);
    headers.host = hostHeader(target.host, target.port, target.scheme);
    let secret: Secret | null = null;
    let effective = decision;
    if (decision.outcome === "credentialed" && decision.connection) {
      secret = credentials.open(decision.connection.identity, a.policyRevision);
      if (!secret)
        effective = {
          ...decision,
          outcome: "allowlisted",
          reason: `${decision.connection.identity} has no credential any more; the request goes out without one`,
          connection: undefined,
        };
    }
    if (secret && effective.connection) applyCredential(headers, effective.connection.inject, secret);
    // Every answer from an Allowed website is scanned for its connections' secrets, attached or not.
    const needles = redactionNeedles(
      decision.alsoRedact ?? [],
      secret && effective.connection ? { identity: effective.connection.identity, secret } : null,
      (id) => credentials.open(id, a.policyRevision),
    );
    if (needles.length) {
      // Reflections must be findable: ask for an uncompressed body, and a whole one (a byte
      // range of a reflection could carry the secret out piece by piece, each too short to know).
      headers["accept-encoding"] = "identity";
      delete headers.range;
      delete headers["if-range"];
    }
    const hasBody =
      req.headers["content-length"] !== undefined ? req.headers["content-length"] !== "0" : req.headers["transfer-encoding"] !== undefined;
    if (hasBody && req.headers["content-length"] === undefined) delete headers["content-length"];
    return {
      req,
      res,
      attempt: a,
      decision: effective,
      headers,
      hasBody,
      needles,
      credential: secret && effective.connection ? effective.connection.identity : null,
      path: (secret && effective.connection ? decidedPath(target.path) : target.path) + target.search,
    };
  }

  #send(o: Outgoing): void {
    const { req, attempt: a } = o;
    const { target } = a;
    const context: RelayContext = { attempt: a, decision: o.decision, credential: o.credential, again: null };
    const relay = new Relay<RelayContext>(o.res, {
      requestId: a.requestId,
      outcome: o.decision.outcome,
      reportOnly: reportOnlyHeader(o.decision),
      needles: o.needles,
      context,
      onSettled: this.#relaySettled,
      onStaleConnection: this.#sendAgain,
    });
    const request: Dispatcher.DispatchOptions = {
      origin: `${target.scheme}://${hostHeader(target.host, target.port, target.scheme)}`,
      path: o.path,
      method: a.method as Dispatcher.HttpMethod,
      headers: o.headers,
      body: o.hasBody ? Readable.from(countedBody(req, relay), { objectMode: false }) : null,
    };
    // Safe to send twice: no body, and a method that changes nothing.
    if (!o.hasBody && SAFE_METHODS.has(a.method)) context.again = request;
    observeOverhead(req);
    this.#c.agent.dispatch(request, relay);
  }

  /** Sends a safe request once more when its kept-alive connection turned out to be closed. */
  readonly #sendAgain = (relay: Relay<RelayContext>): boolean => {
    const request = relay.context.again;
    if (!request) return false;
    relay.context.again = null;
    this.#c.agent.dispatch(request, relay);
    return true;
  };

  /** Every relay reports here (one function for all of them) when its exchange is over. */
  readonly #relaySettled = (relay: Relay<RelayContext>): void => {
    const { attempt, decision, credential } = relay.context;
    if (credential && relay.responded) this.#c.credentials.touch(credential);
    if (credential && decision.connection) countCredentialDenial(decision.bundle ?? "", decision.connection.name, relay.status);
    this.#c.audit.complete(attempt, decision, {
      status: relay.status,
      bytesIn: relay.bytesIn,
      bytesOut: relay.bytesOut,
      reason: relay.failure,
    });
  };
}

/**
 * The request body as undici reads it, counted on the way. A 'data' listener of our own would
 * set the stream flowing before undici is listening (it may first wait a turn to check a reused
 * connection), and the chunks that arrived with the headers would never go upstream.
 */
async function* countedBody(req: http.IncomingMessage, relay: Relay<RelayContext>): AsyncGenerator<Buffer> {
  // A body that carries the session token is cut off before the token leaves (TokenInBody).
  const scan = new TokenBodyScan(relay.context.attempt.token);
  for await (const chunk of req) {
    relay.bytesOut += (chunk as Buffer).length;
    yield scan.push(chunk as Buffer);
  }
  const tail = scan.end();
  if (tail.length) yield tail;
}
