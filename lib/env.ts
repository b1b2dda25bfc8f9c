// The one reader of process.env. Everything else receives a validated Env.
import os from "node:os";
import path from "node:path";
import { z } from "zod";
import { Secret } from "./vault/secret";
import { parseArchiveEvery, parseStreamTiming, type StreamTiming } from "./audit/stream/config";

const port = (fallback: number) => z.coerce.number().int().min(0).max(65535).default(fallback);

const EnvSchema = z.object({
  PORT: port(3000),
  HOSTNAME: z.string().min(1).default("127.0.0.1"),
  GATEHOUSE_PROXY_PORT: port(3128),
  GATEHOUSE_PROXY_HOST: z.string().min(1).default("127.0.0.1"),
  GATEHOUSE_PROXY_WORKERS: z.coerce.number().int().min(1).max(64).optional(),
  GATEHOUSE_DATA_DIR: z.string().min(1).default("./data"),
  GATEHOUSE_MASTER_KEY: z.string().optional(),
  GATEHOUSE_OWNER_EMAIL: z.string().optional(),
  GATEHOUSE_OWNER_PASSWORD: z.string().optional(),
  GATEHOUSE_UPSTREAM_CA: z.string().optional(),
  GATEHOUSE_ALLOW_PRIVATE: z.string().optional(),
  GATEHOUSE_RESOLVE: z.string().optional(),
  GATEHOUSE_PUBLIC_URL: z.string().optional(),
  GATEHOUSE_PROXY_TIMEOUTS: z.string().optional(),
  GATEHOUSE_PROXY_LIMITS: z.string().optional(),
  GATEHOUSE_DASHBOARD_KEEPALIVE: z.string().optional(),
  GATEHOUSE_SESSION_TOUCH_INTERVAL: z.string().optional(),
  NEXTAUTH_SECRET: z.string().optional(),
  GATEHOUSE_OIDC_ISSUER: z.string().optional(),
  GATEHOUSE_OIDC_CLIENT_ID: z.string().optional(),
  GATEHOUSE_OIDC_CLIENT_SECRET: z.string().optional(),
  GATEHOUSE_OIDC_NAME: z.string().optional(),
  GATEHOUSE_OIDC_ROLE_CLAIM: z.string().optional(),
  GATEHOUSE_OIDC_OWNER_GROUPS: z.string().optional(),
  GATEHOUSE_OIDC_AUDITOR_GROUPS: z.string().optional(),
  GATEHOUSE_OIDC_SCOPES: z.string().optional(),
  GATEHOUSE_DATABASE_URL: z.preprocess(
    (v) => (v === "" ? undefined : v),
    z
      .string()
      .regex(/^postgres(ql)?:\/\//, { error: "must be a postgres:// URL" })
      .optional(),
  ),
  GATEHOUSE_TEST_POLICY_CLOCK: z.string().optional(),
  GATEHOUSE_LOG_FORMAT: z.preprocess(
    (v) => (v === "" ? undefined : v),
    z.enum(["json", "pretty"], { error: "must be json or pretty" }).optional(),
  ),
  GATEHOUSE_METRICS_TOKEN: z.string().optional(),
  GATEHOUSE_UPSTREAM_PROXY: z.string().optional(),
  GATEHOUSE_UPSTREAM_PROXY_CA: z.string().optional(),
  GATEHOUSE_UPSTREAM_NO_PROXY: z.string().optional(),
  GATEHOUSE_SERVE: z.preprocess(
    (v) => (v === "" ? undefined : v),
    z.enum(["all", "dashboard", "proxy"], { error: "must be all, dashboard or proxy" }).default("all"),
  ),
});

/** How long the proxy waits, in milliseconds, before it gives up on a peer. */
export type ProxyTimeouts = {
  /** For an upstream TCP (and TLS) connection to be established. */
  connect: number;
  /** For a sandbox's request headers, from the first byte. */
  requestHeaders: number;
  /** For a sandbox's whole request, headers and body. */
  request: number;
  /** For an upstream's response headers, once the request is sent. */
  responseHeaders: number;
  /** Between two chunks of an upstream's response body. */
  idle: number;
  /** For the ClientHello inside a blind CONNECT tunnel. */
  clientHello: number;
  /** A blind tunnel or an open WebSocket with no bytes either way for this long is closed. */
  tunnelIdle: number;
  /** A sandbox's kept-alive connection with no request in flight for this long is closed. */
  keepAlive: number;
};

export const DEFAULT_PROXY_TIMEOUTS: ProxyTimeouts = {
  connect: 10_000,
  requestHeaders: 15_000,
  request: 5 * 60_000,
  responseHeaders: 30_000,
  idle: 60_000,
  clientHello: 10_000,
  tunnelIdle: 10 * 60_000,
  keepAlive: 5_000,
};

/** Limits the proxy keeps per process (each proxy worker counts on its own). */
export type ProxyLimits = {
  /** Connections from one peer address that have not yet presented a valid session token. */
  unauthenticatedPerPeer: number;
  /** Sandbox connections one session may hold open (tunnels, kept-alive connections, WebSockets). */
  connectionsPerSession: number;
};

export const DEFAULT_PROXY_LIMITS: ProxyLimits = { unauthenticatedPerPeer: 64, connectionsPerSession: 256 };

const LIMIT_NAMES = new Map<string, keyof ProxyLimits>([
  ["unauthenticated-per-peer", "unauthenticatedPerPeer"],
  ["connections-per-session", "connectionsPerSession"],
]);

const TIMEOUT_NAMES = new Map<string, keyof ProxyTimeouts>([
  ["connect", "connect"],
  ["request-headers", "requestHeaders"],
  ["request", "request"],
  ["response-headers", "responseHeaders"],
  ["idle", "idle"],
  ["client-hello", "clientHello"],
  ["tunnel-idle", "tunnelIdle"],
  ["keep-alive", "keepAlive"],
]);

export type Env = {
  port: number;
  hostname: string;
  proxyPort: number;
  proxyHost: string;
  /** Forward-proxy processes sharing the proxy port; defaults to one per core but one. */
  proxyWorkers: number;
  dataDir: string;
  /** PostgreSQL (postgres://…) shared by every replica; unset: the SQLite file in dataDir. */
  databaseUrl: string | undefined;
  masterKey: string | undefined;
  ownerEmail: string | undefined;
  ownerPassword: string | undefined;
  upstreamCaPath: string | undefined;
  allowPrivate: string[];
  resolve: Record<string, string>;
  /** Where the dashboard is reached from outside; defaults to http://HOSTNAME:PORT. */
  publicUrl: string;
  proxyTimeouts: ProxyTimeouts;
  proxyLimits: ProxyLimits;
  /** How long the dashboard keeps an idle connection open, in ms: longer than a load balancer's. */
  dashboardKeepAlive: number;
  /** How often, in ms at most, a session's traffic is written to its last-seen time. */
  sessionTouchInterval: number;
  nextAuthSecret: string | undefined;
  /** Dashboard sign-in through the company's IdP, when GATEHOUSE_OIDC_ISSUER is set (it then wins over Settings). */
  oidc: OidcEnv | undefined;
  /** What this process serves: both listeners, or one of them (replicas on one database). */
  serve: ServeRole;
  /** Tests only: a file holding an offset (ms) added to the clock grants expire by (lib/clock.ts). */
  testPolicyClock?: string;
  /** Unset: pretty on a terminal, JSON lines otherwise. */
  logFormat: LogFormat | undefined;
  /** The bearer token that turns `GET /metrics` on; unset, it answers 404. */
  metricsToken: Secret | undefined;
  /** The company's proxy every upstream is reached through, when set. */
  upstreamProxy: UpstreamProxy | undefined;
  /** Audit archive segments (retention): GATEHOUSE_AUDIT_ARCHIVE_DIR, else <data>/archive. */
  auditArchiveDir: string;
  /** How often the scheduled retention run happens (GATEHOUSE_AUDIT_ARCHIVE_EVERY, default 1h). */
  auditArchiveEvery: number;
  /** The audit stream sender's pacing (GATEHOUSE_AUDIT_STREAM). */
  auditStream: StreamTiming;
};

export type LogFormat = "json" | "pretty";

export type UpstreamProxy = {
  /** `host:port` of the parent proxy, for messages: never its credentials. */
  display: string;
  host: string;
  port: number;
  /** The `Proxy-Authorization` value (Basic), when the URL carried user:pass. */
  authorization: Secret | undefined;
  /** An extra CA bundle (PEM path) trusted for the parent's own TLS; only with https://. */
  caPath: string | undefined;
  tls: boolean;
  /** Host patterns reached directly, never through the parent (`GATEHOUSE_UPSTREAM_NO_PROXY`). */
  noProxy: string[];
};

export type OidcEnv = {
  /** Shown as "Sign in with <name>". */
  name: string;
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** The ID token claim that lists the person's groups. */
  roleClaim: string;
  ownerGroups: string[];
  auditorGroups: string[];
  scopes: string;
};

export const OIDC_DEFAULT_ROLE_CLAIM = "groups";
export const OIDC_DEFAULT_SCOPES = "openid email profile";

/** https, or http only to this machine (a test IdP): an IdP's answers decide who is an Owner. */
export function checkIssuerUrl(value: string): string | null {
  let u: URL;
  try {
    u = new URL(value);
  } catch {
    return "is not a URL";
  }
  if (u.search || u.hash || u.username || u.password) return "must not carry a query, fragment or credentials";
  const loopback = u.hostname === "127.0.0.1" || u.hostname === "[::1]" || u.hostname === "localhost";
  if (u.protocol !== "https:" && !(u.protocol === "http:" && loopback)) return "must be https:// (http:// only on loopback)";
  return null;
}

/** `a, b,c` → ["a","b","c"]: group names as the IdP spells them. */
export function splitGroups(spec: string | undefined): string[] {
  return [
    ...new Set(
      (spec ?? "")
        .split(",")
        .map((s) => s.trim())
        .filter(Boolean),
    ),
  ];
}

function parseOidc(e: z.infer<typeof EnvSchema>): OidcEnv | undefined {
  if (!e.GATEHOUSE_OIDC_ISSUER) return undefined;
  const issuer = e.GATEHOUSE_OIDC_ISSUER.replace(/\/$/, "");
  const bad = checkIssuerUrl(issuer);
  if (bad) throw new EnvError(`GATEHOUSE_OIDC_ISSUER: ${bad}`);
  if (!e.GATEHOUSE_OIDC_CLIENT_ID || !e.GATEHOUSE_OIDC_CLIENT_SECRET)
    throw new EnvError("GATEHOUSE_OIDC_CLIENT_ID and GATEHOUSE_OIDC_CLIENT_SECRET are required with GATEHOUSE_OIDC_ISSUER");
  const ownerGroups = splitGroups(e.GATEHOUSE_OIDC_OWNER_GROUPS);
  const auditorGroups = splitGroups(e.GATEHOUSE_OIDC_AUDITOR_GROUPS);
  if (ownerGroups.length + auditorGroups.length === 0)
    throw new EnvError("GATEHOUSE_OIDC_OWNER_GROUPS or GATEHOUSE_OIDC_AUDITOR_GROUPS: at least one group must map to a role");
  return {
    name: e.GATEHOUSE_OIDC_NAME?.trim() || "SSO",
    issuer,
    clientId: e.GATEHOUSE_OIDC_CLIENT_ID,
    clientSecret: e.GATEHOUSE_OIDC_CLIENT_SECRET,
    roleClaim: e.GATEHOUSE_OIDC_ROLE_CLAIM?.trim() || OIDC_DEFAULT_ROLE_CLAIM,
    ownerGroups,
    auditorGroups,
    scopes: e.GATEHOUSE_OIDC_SCOPES?.trim() || OIDC_DEFAULT_SCOPES,
  };
}

export type ServeRole = "all" | "dashboard" | "proxy";

export class EnvError extends Error {}

function parseResolve(spec: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!spec) return out;
  for (const part of spec
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean)) {
    const eq = part.indexOf("=");
    if (eq <= 0 || eq === part.length - 1) {
      throw new EnvError(`GATEHOUSE_RESOLVE: "${part}" is not host=ip`);
    }
    out[part.slice(0, eq).toLowerCase().replace(/\.$/, "")] = part.slice(eq + 1);
  }
  return out;
}

const UNIT_MS = { ms: 1, s: 1000, m: 60_000 } as const;

/** `idle=90s,connect=5s`: each named timeout replaces its default. */
function parseProxyTimeouts(spec: string | undefined): ProxyTimeouts {
  const out = { ...DEFAULT_PROXY_TIMEOUTS };
  const where = "GATEHOUSE_PROXY_TIMEOUTS";
  for (const part of (spec ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean)) {
    const eq = part.indexOf("=");
    const key = eq < 0 ? part : part.slice(0, eq);
    const name = TIMEOUT_NAMES.get(key);
    if (!name) throw new EnvError(`${where}: "${key}" is not a timeout (${[...TIMEOUT_NAMES.keys()].join(", ")})`);
    const m = eq < 0 ? null : /^(\d+)(ms|s|m)$/.exec(part.slice(eq + 1));
    if (!m) throw new EnvError(`${where}: ${key} needs a duration in ms, s or m (e.g. ${key}=90s)`);
    const ms = Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS];
    if (ms < 100 || ms > 24 * 3600_000) throw new EnvError(`${where}: ${key} must be between 100ms and 24 hours`);
    out[name] = ms;
  }
  // Node's server refuses a header timeout longer than the whole-request one.
  if (out.requestHeaders > out.request)
    throw new EnvError(`${where}: request-headers (${out.requestHeaders} ms) must not be longer than request (${out.request} ms)`);
  return out;
}

/** `unauthenticated-per-peer=16,connections-per-session=64`: each named limit replaces its default. */
function parseProxyLimits(spec: string | undefined): ProxyLimits {
  const out = { ...DEFAULT_PROXY_LIMITS };
  const where = "GATEHOUSE_PROXY_LIMITS";
  for (const part of (spec ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean)) {
    const eq = part.indexOf("=");
    const key = eq < 0 ? part : part.slice(0, eq);
    const name = LIMIT_NAMES.get(key);
    if (!name) throw new EnvError(`${where}: "${key}" is not a limit (${[...LIMIT_NAMES.keys()].join(", ")})`);
    const value = eq < 0 ? NaN : Number(part.slice(eq + 1));
    if (!Number.isInteger(value) || value < 1 || value > 1_000_000)
      throw new EnvError(`${where}: ${key} needs a whole number from 1 to 1000000 (e.g. ${key}=64)`);
    out[name] = value;
  }
  return out;
}

/**
 * Above the idle timeout of the load balancers a dashboard sits behind (60 s is common): the side
 * that closes an idle connection first races the other's next request on it, and loses it.
 */
export const DEFAULT_DASHBOARD_KEEPALIVE_MS = 65_000;

function parseDashboardKeepAlive(spec: string | undefined): number {
  if (!spec) return DEFAULT_DASHBOARD_KEEPALIVE_MS;
  const m = /^(\d+)(ms|s|m)$/.exec(spec.trim());
  const ms = m ? Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS] : NaN;
  // Node's server takes 300 s for a whole request; the header timeout sits 1 s above this one.
  if (!(ms >= 1000 && ms <= 240_000)) throw new EnvError("GATEHOUSE_DASHBOARD_KEEPALIVE: a duration between 1s and 4m (e.g. 65s)");
  return ms;
}

/** Idle expiry is exact to within this; shorter means more writes under traffic. */
export const DEFAULT_SESSION_TOUCH_INTERVAL_MS = 5_000;

function parseTouchInterval(spec: string | undefined): number {
  if (!spec) return DEFAULT_SESSION_TOUCH_INTERVAL_MS;
  const m = /^(\d+)(ms|s|m)$/.exec(spec.trim());
  const ms = m ? Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS] : NaN;
  if (!(ms >= 0 && ms <= 60_000)) throw new EnvError("GATEHOUSE_SESSION_TOUCH_INTERVAL: a duration between 0ms and 1m (e.g. 5s)");
  return ms;
}

export function readEnv(source: NodeJS.ProcessEnv = process.env): Env {
  const parsed = EnvSchema.safeParse(source);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new EnvError(`${issue.path.join(".")}: ${issue.message}`);
  }
  const e = parsed.data;
  const displayHost = e.HOSTNAME === "0.0.0.0" ? "127.0.0.1" : e.HOSTNAME;
  return {
    port: e.PORT,
    hostname: e.HOSTNAME,
    proxyPort: e.GATEHOUSE_PROXY_PORT,
    proxyHost: e.GATEHOUSE_PROXY_HOST,
    // The main process (dashboard, audit importer, checkpoints) keeps a core of its own.
    proxyWorkers: e.GATEHOUSE_PROXY_WORKERS ?? Math.max(1, os.availableParallelism() - 1),
    dataDir: path.resolve(e.GATEHOUSE_DATA_DIR),
    databaseUrl: e.GATEHOUSE_DATABASE_URL,
    masterKey: e.GATEHOUSE_MASTER_KEY || undefined,
    ownerEmail: e.GATEHOUSE_OWNER_EMAIL || undefined,
    ownerPassword: e.GATEHOUSE_OWNER_PASSWORD || undefined,
    upstreamCaPath: e.GATEHOUSE_UPSTREAM_CA || undefined,
    allowPrivate: (e.GATEHOUSE_ALLOW_PRIVATE ?? "")
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean),
    resolve: parseResolve(e.GATEHOUSE_RESOLVE),
    publicUrl: (e.GATEHOUSE_PUBLIC_URL || `http://${displayHost}:${e.PORT}`).replace(/\/$/, ""),
    proxyTimeouts: parseProxyTimeouts(e.GATEHOUSE_PROXY_TIMEOUTS),
    proxyLimits: parseProxyLimits(e.GATEHOUSE_PROXY_LIMITS),
    dashboardKeepAlive: parseDashboardKeepAlive(e.GATEHOUSE_DASHBOARD_KEEPALIVE),
    sessionTouchInterval: parseTouchInterval(e.GATEHOUSE_SESSION_TOUCH_INTERVAL),
    nextAuthSecret: e.NEXTAUTH_SECRET || undefined,
    oidc: parseOidc(e),
    serve: e.GATEHOUSE_SERVE,
    ...(e.GATEHOUSE_TEST_POLICY_CLOCK ? { testPolicyClock: e.GATEHOUSE_TEST_POLICY_CLOCK } : {}),
    logFormat: e.GATEHOUSE_LOG_FORMAT,
    metricsToken: parseMetricsToken(e.GATEHOUSE_METRICS_TOKEN),
    upstreamProxy: parseUpstreamProxy(e.GATEHOUSE_UPSTREAM_PROXY, e.GATEHOUSE_UPSTREAM_PROXY_CA, e.GATEHOUSE_UPSTREAM_NO_PROXY),
    ...auditEnv(e.GATEHOUSE_DATA_DIR, source),
  };
}

/** Short tokens can be guessed by whoever reaches the port; 16 characters is the floor. */
export const MIN_METRICS_TOKEN_LENGTH = 16;

function parseMetricsToken(spec: string | undefined): Secret | undefined {
  if (!spec) return undefined;
  if (spec.length < MIN_METRICS_TOKEN_LENGTH || /\s/.test(spec))
    throw new EnvError(`GATEHOUSE_METRICS_TOKEN: at least ${MIN_METRICS_TOKEN_LENGTH} characters, no spaces (e.g. openssl rand -hex 24)`);
  return new Secret(spec);
}

/** `http://[user:pass@]host:port`; the messages never repeat the URL, which may carry a password. */
function parseUpstreamProxy(spec: string | undefined, caPath: string | undefined, noProxy: string | undefined): UpstreamProxy | undefined {
  const where = "GATEHOUSE_UPSTREAM_PROXY";
  if (!spec) {
    if (caPath) throw new EnvError("GATEHOUSE_UPSTREAM_PROXY_CA is set without GATEHOUSE_UPSTREAM_PROXY");
    return undefined;
  }
  let u: URL;
  try {
    u = new URL(spec);
  } catch {
    throw new EnvError(`${where}: not a URL (http://[user:pass@]host:port)`);
  }
  if (u.protocol !== "http:" && u.protocol !== "https:") throw new EnvError(`${where}: must be http:// or https://`);
  if ((u.pathname !== "/" && u.pathname !== "") || u.search || u.hash)
    throw new EnvError(`${where}: must be only a scheme, host and port (no path or query)`);
  if (!u.port) throw new EnvError(`${where}: must name the port (e.g. http://proxy.example:3128)`);
  if (caPath && u.protocol !== "https:") throw new EnvError("GATEHOUSE_UPSTREAM_PROXY_CA: only for an https:// GATEHOUSE_UPSTREAM_PROXY");
  const host = u.hostname.replace(/^\[(.*)\]$/, "$1");
  let user: string, pass: string;
  try {
    user = decodeURIComponent(u.username);
    pass = decodeURIComponent(u.password);
  } catch {
    throw new EnvError(`${where}: the user name or password is not valid percent-encoding`);
  }
  return {
    display: `${u.hostname}:${u.port}`,
    host,
    port: Number(u.port),
    authorization: user || pass ? new Secret(`Basic ${Buffer.from(`${user}:${pass}`).toString("base64")}`) : undefined,
    caPath: caPath || undefined,
    tls: u.protocol === "https:",
    noProxy: (noProxy ?? "")
      .split(",")
      .map((s) => s.trim().toLowerCase().replace(/\.$/, ""))
      .filter(Boolean),
  };
}

/**
 * Just the log format, for the logger, which must work even when the rest of the environment is
 * invalid (to say so). An invalid value reads as unset here; readEnv() then refuses it.
 */
export function logFormatSetting(source: NodeJS.ProcessEnv = process.env): LogFormat | undefined {
  const v = source.GATEHOUSE_LOG_FORMAT;
  return v === "json" || v === "pretty" ? v : undefined;
}

function auditEnv(dataDir: string, source: NodeJS.ProcessEnv): Pick<Env, "auditArchiveDir" | "auditArchiveEvery" | "auditStream"> {
  try {
    return {
      // A path chosen at run time: not something the build should trace files for.
      auditArchiveDir: path.resolve(/* turbopackIgnore: true */ source.GATEHOUSE_AUDIT_ARCHIVE_DIR || path.join(dataDir, "archive")),
      auditArchiveEvery: parseArchiveEvery(source.GATEHOUSE_AUDIT_ARCHIVE_EVERY),
      auditStream: parseStreamTiming(source.GATEHOUSE_AUDIT_STREAM),
    };
  } catch (err) {
    throw new EnvError((err as Error).message);
  }
}

let cached: Env | undefined;
/** The process's Env, read once. */
export function env(): Env {
  cached ??= readEnv();
  return cached;
}
