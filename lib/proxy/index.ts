// The forward proxy listener and the embedded route, composed from the core.
import fs from "node:fs";
import http from "node:http";
import tls from "node:tls";
import { leaveCheckpointsToImporter } from "../../db/client";
import { policyClock } from "../clock";
import { policyCache, type PolicyCache } from "../policy-cache";
import { SessionVerifier } from "../sessions/verify";
import { EgressJournal } from "../audit/journal";
import { ensureCertificateAuthority, LeafIssuer } from "./ca";
import { EgressProxy, sandboxServerOptions } from "./egress-proxy";
import { Resolver } from "./resolve";
import { ParentAwareResolver } from "./parent-proxy";
import type { Db } from "../../db/client";
import type { Env } from "../env";
import type { Vault } from "../vault";
import { replicaProxyDeps, type ReplicaCaches } from "../cluster/replica";
import { ReplicaSessions } from "../cluster/replica-sessions";
import { SealedCredentials } from "./sealed-credentials";

/** What the proxy is started from: the shape of the service context, without depending on lib/services. */
export type ProxyContext = { db: Db; vault: Vault; env: Env; now: () => number };

export type ProxyHandle = {
  listen(): Promise<void>;
  port(): number;
  handleEmbedded(req: http.IncomingMessage, res: http.ServerResponse): void;
  serveCaCertificate(req: http.IncomingMessage, res: http.ServerResponse): void;
  close(): Promise<void>;
};

export class ProxyStartError extends Error {}

function upstreamTrust(path: string | undefined, name = "GATEHOUSE_UPSTREAM_CA"): string[] {
  const roots = [...tls.rootCertificates];
  if (!path) return roots;
  let pem: string;
  try {
    pem = fs.readFileSync(path, "utf8");
  } catch (err) {
    throw new ProxyStartError(`${name}: cannot read ${path} (${(err as NodeJS.ErrnoException).code})`);
  }
  if (!pem.includes("-----BEGIN CERTIFICATE-----")) throw new ProxyStartError(`${name}: ${path} holds no PEM certificate`);
  return [...roots, pem];
}

/**
 * On PostgreSQL (GATEHOUSE_DATABASE_URL): the change feed's revisions, and the caches it reloads
 * before handing each new one out (the compiled policy and the sealed credentials together, the
 * sessions held); on SQLite none.
 */
async function replicaDeps(
  url: string | undefined,
  policy: PolicyCache,
  sessions: ReplicaSessions | SessionVerifier,
  credentials: SealedCredentials,
) {
  if (!url) return {};
  const caches: ReplicaCaches = {
    policy: { load: () => Promise.all([policy.load(), credentials.reload()]) },
    sessions: sessions instanceof ReplicaSessions ? sessions : undefined,
  };
  const { revisions, changes } = await replicaProxyDeps(url, caches);
  return { revisions, changes, credentials };
}

export async function startProxy(ctx: ProxyContext): Promise<ProxyHandle> {
  const { certPem } = await ensureCertificateAuthority(ctx.db, ctx.vault, ctx.env.dataDir);
  leaveCheckpointsToImporter(ctx.db);
  let resolver: Resolver;
  try {
    const opts = { allowPrivate: ctx.env.allowPrivate, overrides: ctx.env.resolve, timeoutMs: ctx.env.proxyTimeouts.connect };
    const parent = ctx.env.upstreamProxy;
    resolver = parent
      ? new ParentAwareResolver(opts, {
          config: parent,
          parentCa: parent.tls ? upstreamTrust(parent.caPath, "GATEHOUSE_UPSTREAM_PROXY_CA") : undefined,
        })
      : new Resolver(opts);
  } catch (err) {
    throw new ProxyStartError((err as Error).message);
  }
  const journal = new EgressJournal(ctx.env.dataDir);
  const policy = policyCache(ctx.db, policyClock(ctx.env.testPolicyClock));
  const touch = (id: string, at: number) => journal.recordTouch({ touch: "session", key: id, at });
  // On PostgreSQL no request reads a session the change feed keeps in memory (lib/cluster/replica-sessions.ts).
  const sessions = ctx.env.databaseUrl
    ? new ReplicaSessions(ctx.db, touch, ctx.env.sessionTouchInterval)
    : new SessionVerifier(ctx.db, touch, ctx.env.sessionTouchInterval);
  const credentials = new SealedCredentials({ db: ctx.db, vault: ctx.vault, env: ctx.env, now: ctx.now, audit: journal });
  const core = new EgressProxy({
    db: ctx.db,
    vault: ctx.vault,
    env: ctx.env,
    now: ctx.now,
    resolver,
    policy,
    sessions,
    audit: journal,
    issuer: await LeafIssuer.load(ctx.db, ctx.vault),
    upstreamCa: upstreamTrust(ctx.env.upstreamCaPath),
    parent: resolver instanceof ParentAwareResolver ? resolver.parent : undefined,
    // A replica on PostgreSQL: revisions from the change feed, fail closed while it is stale.
    ...(await replicaDeps(ctx.env.databaseUrl, policy, sessions, credentials)),
  });
  const server = http.createServer(sandboxServerOptions(ctx.env.proxyTimeouts));
  core.attach(server);
  return {
    listen: () =>
      new Promise((resolve, reject) => {
        server.once("error", reject);
        server.listen(ctx.env.proxyPort, ctx.env.proxyHost, () => resolve());
      }),
    port: () => (server.address() as { port: number }).port,
    handleEmbedded: (req, res) => core.handleEmbedded(req, res),
    serveCaCertificate: (req, res) => {
      res.writeHead(200, {
        "Content-Type": "application/x-pem-file",
        "Content-Disposition": 'attachment; filename="gatehouse-ca.pem"',
        "Cache-Control": "no-cache",
      });
      res.end(req.method === "HEAD" ? undefined : certPem);
    },
    close: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await core.close();
      await closed;
    },
  };
}
