// The forward proxy listener and the embedded route, composed from the core.
import fs from "node:fs";
import http from "node:http";
import tls from "node:tls";
import { leaveCheckpointsToImporter } from "../../db/client";
import { policyCache } from "../policy-cache";
import { SessionVerifier } from "../sessions/verify";
import { EgressJournal } from "../audit/journal";
import { ensureCertificateAuthority, LeafIssuer } from "./ca";
import { EgressProxy, sandboxServerOptions } from "./egress-proxy";
import { Resolver } from "./resolve";
import type { Db } from "../../db/client";
import type { Env } from "../env";
import type { Vault } from "../vault";

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

function upstreamTrust(path: string | undefined): string[] {
  const roots = [...tls.rootCertificates];
  if (!path) return roots;
  let pem: string;
  try {
    pem = fs.readFileSync(path, "utf8");
  } catch (err) {
    throw new ProxyStartError(`GATEHOUSE_UPSTREAM_CA: cannot read ${path} (${(err as NodeJS.ErrnoException).code})`);
  }
  if (!pem.includes("-----BEGIN CERTIFICATE-----")) throw new ProxyStartError(`GATEHOUSE_UPSTREAM_CA: ${path} holds no PEM certificate`);
  return [...roots, pem];
}

export async function startProxy(ctx: ProxyContext): Promise<ProxyHandle> {
  const { certPem } = await ensureCertificateAuthority(ctx.db, ctx.vault, ctx.env.dataDir);
  leaveCheckpointsToImporter(ctx.db);
  let resolver: Resolver;
  try {
    resolver = new Resolver({ allowPrivate: ctx.env.allowPrivate, overrides: ctx.env.resolve, timeoutMs: ctx.env.proxyTimeouts.connect });
  } catch (err) {
    throw new ProxyStartError((err as Error).message);
  }
  const journal = new EgressJournal(ctx.env.dataDir);
  const core = new EgressProxy({
    db: ctx.db,
    vault: ctx.vault,
    env: ctx.env,
    now: ctx.now,
    resolver,
    policy: policyCache(ctx.db),
    sessions: new SessionVerifier(ctx.db, (id, at) => journal.recordTouch({ touch: "session", key: id, at }), ctx.env.sessionTouchInterval),
    audit: journal,
    issuer: await LeafIssuer.load(ctx.db, ctx.vault),
    upstreamCa: upstreamTrust(ctx.env.upstreamCaPath),
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
      res.writeHead(200, { "Content-Type": "application/x-pem-file", "Content-Disposition": 'attachment; filename="gatehouse-ca.pem"', "Cache-Control": "no-cache" });
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
