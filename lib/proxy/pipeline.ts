// The request pipeline, for every request that arrives as one (absolute-form HTTP, a request
// inside an intercepted tunnel, the embedded route):
//   admission (session, limits, token in the URL) → decide → resolve (SSRF) → journal →
//   credential attached → relayed (relay.ts) → completion in the journal.
import type http from "node:http";
import { Readable } from "node:stream";
import type { Dispatcher } from "undici";
import type { Revisions } from "../../db/queries/settings";
import type { JournalRequest } from "../audit/journal";
import { decidedPath, hostHeader, type Decision, type Target } from "../policy";
import { auditUnavailable, authFailure, failed, journalFailed, policyUnavailable, tooManyConnections } from "./answers";
import { LIMITS, refusedAt, type Attempt, type Entry, type ProxyCore } from "./core";
import { egressEvent } from "./egress-audit";
import { hasMethodOverride, upstreamRequestHeaders } from "./headers";
import { applyCredential, redactionNeedles } from "./inject";
import { Relay } from "./relay";
import { answer } from "./respond";
import { TokenBodyScan, tokenInRequest } from "./token";
import type { SessionCheck } from "../sessions/verify";
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
    this.#queue({ req, res, entry, target, requestId, token });
  }

  #queue(x: Arrival): void {
    this.#arrivals.push(x);
    if (this.#arrivals.length === 1) setImmediate(this.#admitArrivals);
  }

  /** Replicas: reads the session this replica does not hold yet, then admits the request with the next batch. */
  #fetchSession(x: Arrival, token: string, revision: number): void {
    const { d } = this.#c;
    d.sessions.fetch!(token, d.now(), revision).then(
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
      try {
        this.#send(o);
      } catch {
        failed(o.res, o.attempt.requestId);
      }
    }
  };

  /** Checks and decides; what may go out is added to `ready`, everything else is answered here. */
  #admit(x: Arrival, revisions: Revisions, ready: Outgoing[]): void {
    const { d, audit } = this.#c;
    const { req, res, requestId, token, target } = x;
    const check = token ? (x.check ?? d.sessions.verify(token, d.now(), revisions.sessions)) : null;
    if (token && check === undefined) return this.#fetchSession(x, token, revisions.sessions);
    if (!token || !check || !check.ok) {
      req.resume();
      return answer(res, authFailure(requestId, check && !check.ok ? check.reason : "missing"));
    }
    if (req.rawHeaders.length / 2 > LIMITS.maxHeaderCount) {
      req.resume();
      return answer(
        res,
        audit.refuse(check.session, refusedAt(req, target), {
          status: 431,
          code: "headers_too_large",
          message: `more than ${LIMITS.maxHeaderCount} request headers`,
          outcome: "blocked",
          requestId,
        }),
      );
    }
    if (countHeader(req.rawHeaders, "content-length") > 1) {
      req.resume();
      return answer(
        res,
        audit.refuse(check.session, refusedAt(req, target), {
          status: 400,
          code: "bad_request",
          message: "duplicate Content-Length",
          outcome: "blocked",
          requestId,
        }),
      );
    }
    if (x.entry !== "intercept" && !this.#c.sockets.track(check.session.id, req.socket)) {
      req.resume();
      return answer(res, audit.refuse(check.session, refusedAt(req, target), tooManyConnections(requestId)));
    }
    const a: Attempt = {
      requestId,
      started: d.now(),
      session: check.session,
      token,
      method: (req.method ?? "GET").toUpperCase(),
      target,
      policyRevision: revisions.policy,
    };
    const href = `${target.scheme}://${hostHeader(target.host, target.port, target.scheme)}${target.path}${target.search}`;
    const leak = tokenInRequest(token, href, req.rawHeaders);
    if (leak) {
      req.resume();
      return answer(
        res,
        audit.refuse(check.session, refusedAt(req, target), {
          status: 403,
          code: "token_in_request",
          message: `the request carries the session token ${leak}; it would leak upstream`,
          outcome: "blocked",
          requestId,
        }),
      );
    }
    const decision = d.policy.current(revisions.policy).decide(check.session.workspace, check.session.channel, {
      method: a.method,
      scheme: target.scheme,
      host: target.host,
      port: target.port,
      path: target.path,
      methodOverride: hasMethodOverride(req.headers),
    });
    if (decision.outcome === "blocked") {
      req.resume();
      audit.record(a, decision, { status: 403 });
      return answer(res, {
        status: 403,
        code: decision.code ?? "host_not_allowed",
        message: decision.reason,
        outcome: "blocked",
        requestId,
        host: target.host,
      });
    }
    // A host checked moments ago is answered from the resolver's cache; otherwise this request
    // waits for DNS and goes out on its own.
    const resolved = d.resolver.resolveCached(target.host);
    if (resolved) return void ready.push(this.#prepare(req, res, a, decision));
    void this.#resolveThenSend(req, res, a, decision).catch(() => failed(res, requestId));
  }

  async #resolveThenSend(req: http.IncomingMessage, res: http.ServerResponse, a: Attempt, decision: Decision): Promise<void> {
    const resolved = await this.#c.d.resolver.resolve(a.target.host);
    if (!resolved.ok) {
      req.resume();
      const status = resolved.code === "private_address" ? 403 : 502;
      const outcome = resolved.code === "private_address" ? "blocked" : decision.outcome;
      this.#c.audit.record(
        a,
        {
          ...decision,
          outcome,
          reason: resolved.message,
          rule: resolved.code === "private_address" ? "ssrf:private_address" : decision.rule,
        },
        { status },
      );
      return answer(res, { status, code: resolved.code, message: resolved.message, outcome, requestId: a.requestId, host: a.target.host });
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

function countHeader(rawHeaders: string[], lowerName: string): number {
  let n = 0;
  for (let i = 0; i < rawHeaders.length; i += 2)
    if (rawHeaders[i]!.length === lowerName.length && rawHeaders[i]!.toLowerCase() === lowerName) n++;
  return n;
}
