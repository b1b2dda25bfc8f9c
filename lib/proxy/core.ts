// What the proxy's modules share: the dependencies it is built from, its limits, and the shapes
// a request takes on its way through (a tunnel, an attempt, a refusal's subject).
import crypto from "node:crypto";
import type http from "node:http";
import type net from "node:net";
import type tls from "node:tls";
import type { Agent } from "undici";
import type { Db } from "../../db/client";
import type { Revisions } from "../../db/queries/settings";
import type { EgressJournal, JournalRequest } from "../audit/journal";
import type { Env, ProxyTimeouts } from "../env";
import type { Target } from "../policy";
import type { PolicyCache } from "../policy-cache";
import type { SessionCheck, VerifiedSession } from "../sessions/verify";
import type { Vault } from "../vault";
import type { LeafIssuer } from "./ca";
import type { EgressAudit } from "./egress-audit";
import type { RequestDeadlines } from "./request-deadlines";
import type { ParentProxy } from "./parent-proxy";
import type { Resolver } from "./resolve";
import type { SealedCredentials } from "./sealed-credentials";
import type { SessionSockets } from "./session-sockets";
import type { ExpiringSockets } from "./time-bound";

export const LIMITS = {
  maxHeaderBytes: 32 * 1024,
  maxHeaderCount: 100,
};

/**
 * Options for a server that reads sandbox requests (the forward listener and the one inside
 * intercepted tunnels). Node checks its request timeouts on an interval, 30 s unless told: too
 * coarse for a 15 s header timeout, so it checks four times per header timeout, at most once a second.
 */
export function sandboxServerOptions(timeouts: ProxyTimeouts): http.ServerOptions {
  return {
    maxHeaderSize: LIMITS.maxHeaderBytes,
    headersTimeout: timeouts.requestHeaders,
    requestTimeout: timeouts.request,
    connectionsCheckingInterval: Math.min(1_000, Math.ceil(timeouts.requestHeaders / 4)),
    keepAliveTimeout: timeouts.keepAlive,
  };
}

/**
 * Token → session. On SQLite (SessionVerifier) `verify` always answers; on PostgreSQL
 * (lib/cluster/replica-sessions.ts) it answers from memory, and undefined means the request
 * must first `fetch` the session (the one read a request may wait on).
 */
export type ProxySessions = {
  verify(token: string, now: number, revision: number): SessionCheck | undefined;
  fetch?(token: string, now: number, revision: number): Promise<SessionCheck>;
  revokedSince(since: number): Iterable<string>;
  /** Replicas: told when a reload found sessions revoked, so their sockets close at once. */
  onRevoked?(fn: () => void): () => void;
};

export type ProxyDeps = {
  db: Db;
  vault: Vault;
  env: Env;
  now: () => number;
  resolver: Resolver;
  policy: PolicyCache;
  sessions: ProxySessions;
  audit: EgressJournal;
  issuer: LeafIssuer;
  upstreamCa: string[];
  /**
   * Replicas on PostgreSQL (lib/cluster/replica.ts): the revisions from the change feed, in
   * memory, throwing PolicyStaleError while this replica cannot confirm them; and the feed's
   * changes, so a revocation committed anywhere closes this replica's sockets at once.
   */
  revisions?: () => Revisions;
  changes?: { onChange(fn: (now: Revisions, before: Revisions | null, reset: boolean) => void): () => void };
  /** GATEHOUSE_UPSTREAM_PROXY: upstreams the resolver marks `viaParent` are dialled through it. */
  parent?: ParentProxy;
  /** Built by the caller when it must reload them (replicas); otherwise EgressProxy builds them. */
  credentials?: SealedCredentials;
};

/** The parts every handler works with, built once by EgressProxy. */
export type ProxyCore = {
  d: ProxyDeps;
  /** The upstream connection pool for relayed requests. */
  agent: Agent;
  /** One parsed trust store for every upstream TLS connection. */
  upstreamTls: tls.SecureContext;
  /** One read of the policy and session revisions. */
  revisions: () => Revisions;
  /** Intercepted tunnels by their TLS socket. */
  tunnels: WeakMap<net.Socket, Tunnel>;
  sockets: SessionSockets;
  audit: EgressAudit;
  credentials: SealedCredentials;
  /** Open connections resting on a time-bound grant or report-only window (time-bound.ts). */
  expiring: ExpiringSockets;
};

export type Entry = "forward" | "intercept" | "embedded";

/** What a CONNECT established: every request inside it must stay on this target. */
export type Tunnel = {
  host: string;
  port: number;
  token: string;
  session: VerifiedSession;
  clientSocket: net.Socket;
  spoke?: boolean;
  deadlines?: RequestDeadlines;
};

export type Attempt = {
  requestId: string;
  started: number;
  session: VerifiedSession;
  token: string;
  method: string;
  target: Target;
  /** The policy revision the request was decided under. */
  policyRevision?: number;
  /** Its record in the journal, once written; the completion reuses it. */
  journaled?: JournalRequest;
};

/** What an early refusal was about, for its audit event. */
export type Refused = { method: string | null; scheme: "http" | "https"; host: string | null; port: number | null; path: string | null };

export const refusedAt = (req: http.IncomingMessage, target: Target): Refused => ({
  method: req.method ?? "GET",
  scheme: target.scheme,
  host: target.host,
  port: target.port,
  path: target.path,
});

// Unique without a syscall per request: a random per-process prefix and a counter.
const REQUEST_ID_PREFIX = `req_${crypto.randomBytes(6).toString("base64url")}`;
let requestCounter = 0;
export function newRequestId(): string {
  return `${REQUEST_ID_PREFIX}${(requestCounter++).toString(36)}`;
}
