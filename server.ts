// Composition root: env → migrate → key/CA/first Owner → Next + proxy; clean shutdown.
import crypto from "node:crypto";
import fs from "node:fs";
import http from "node:http";
import path from "node:path";
import next from "next";
import { closeDatabase } from "./db/client";
import { countUsers, findUserByEmail } from "./db/queries/users";
import { prepareDataDir, StartupError } from "./lib/bootstrap";
import { EnvError, readEnv, type Env } from "./lib/env";
import { AppError } from "./lib/errors";
import { createSetupLink } from "./lib/services/setup/create-setup-link";
import { addUser } from "./lib/services/users/add-user";
import type { ServiceContext } from "./lib/services/context";
import { ProxyStartError, startProxy, type ProxyHandle } from "./lib/proxy";
import { startForwardProxies, type ForwardProxies } from "./lib/proxy/forward-cluster";
import { importJournals } from "./lib/audit/journal";
import { startAuditImporter } from "./lib/audit/importer";
import { policyClock } from "./lib/clock";
import { startExpirySweeper } from "./lib/services/grants/expiry-sweeper";
import { boundRequestBody } from "./lib/request-bounds";
import { securityHeaders, API_SECURITY_HEADERS } from "./lib/security-headers";
import { answerHealth, readiness } from "./lib/health";
import { logger, routeProcessOutput } from "./lib/log";
import { enableMetrics } from "./lib/metrics";
import { clusterMetricsText, listenToWorkers } from "./lib/metrics/cluster";
import { answerMetrics } from "./lib/metrics/endpoint";
import { registerPrimaryMetrics } from "./lib/metrics/primary";

const log = logger("server");
// Next.js's messages, Node's warnings and any uncaught error become log lines too.
routeProcessOutput("next");
import { startAuditBackground } from "./lib/services/audit/start-background";

function fail(message: string): never {
  log.fatal(message);
  process.exit(1);
}

/** next-auth needs a signing secret; without one in the env, keep a generated one beside the data. */
function nextAuthSecret(env: Env): string {
  if (env.nextAuthSecret) return env.nextAuthSecret;
  const file = path.join(env.dataDir, "nextauth.secret");
  try {
    return fs.readFileSync(file, "utf8").trim();
  } catch {
    const secret = crypto.randomBytes(32).toString("base64url");
    fs.writeFileSync(file, secret + "\n", { mode: 0o600, flag: "wx" });
    return secret;
  }
}

async function ensureFirstOwner(ctx: ServiceContext): Promise<void> {
  const { ownerEmail, ownerPassword } = ctx.env;
  if ((await countUsers(ctx.db)) > 0) {
    // Only the first start creates an Owner from the environment; say so rather than ignore it.
    if (ownerEmail && !(await findUserByEmail(ctx.db, ownerEmail.trim().toLowerCase()))) {
      log.warn(
        `GATEHOUSE_OWNER_EMAIL ${ownerEmail} was not added: Gatehouse already has users. An Owner can add it on Settings, or run \`gatehouse user add\`.`,
      );
    }
    return;
  }
  if (ownerEmail && ownerPassword) {
    try {
      await addUser({
        ctx,
        actor: { type: "system", role: "owner" },
        input: { email: ownerEmail, role: "owner", password: ownerPassword },
      });
      log.info(`created the first Owner ${ownerEmail}`);
    } catch (err) {
      if (err instanceof AppError) fail(`first Owner from GATEHOUSE_OWNER_EMAIL/GATEHOUSE_OWNER_PASSWORD: ${err.message}`);
      throw err;
    }
    return;
  }
  const link = await createSetupLink({ ctx });
  if (link) {
    // The one line that carries a secret on purpose: the operator needs the link, and it works once, within an hour.
    log.warn({ setupUrl: link.url }, "No Owner yet. Open the one-time link in setupUrl within an hour to create the first Owner");
  }
}

async function main(): Promise<void> {
  let env: Env;
  try {
    env = readEnv();
  } catch (err) {
    if (err instanceof EnvError) fail(`configuration: ${err.message}`);
    throw err;
  }
  let prepared: Awaited<ReturnType<typeof prepareDataDir>>;
  try {
    prepared = await prepareDataDir(env, { createKey: true });
  } catch (err) {
    if (err instanceof StartupError) fail(err.message);
    throw err;
  }
  if (prepared.keyCreated) log.warn(`generated a new master key in ${path.join(env.dataDir, "master.key")} (mode 0600); back it up`);
  const ctx: ServiceContext = { db: prepared.db, vault: prepared.vault, env, now: Date.now };
  if (env.metricsToken) {
    // This process's figures, the database's, and every proxy worker's, merged per scrape.
    enableMetrics();
    registerPrimaryMetrics(ctx.db, env.dataDir);
    listenToWorkers();
  }

  // GATEHOUSE_SERVE: one process may serve both listeners (the default) or one of them.
  const serveDashboard = env.serve !== "proxy";
  const serveProxy = env.serve !== "dashboard";
  if (serveDashboard) {
    process.env.NEXTAUTH_SECRET = nextAuthSecret(env);
    process.env.NEXTAUTH_URL = env.publicUrl;
    await ensureFirstOwner(ctx);
  }

  let proxy: ProxyHandle;
  try {
    proxy = await startProxy(ctx);
  } catch (err) {
    if (err instanceof ProxyStartError) fail(err.message);
    throw err;
  }
  // Records a crashed process left in its journal reach the chain before anything new happens.
  // Every role imports every journal in the data directory: the offsets advance in the same
  // transaction as the events, so importers that share a data directory never duplicate one.
  await importJournals(ctx.db, env.dataDir);
  const importer = startAuditImporter(env.dataDir, env.databaseUrl);
  // Time-bound grants and report-only windows: their expiry is recorded (once) by a sweep.
  const sweeper = startExpirySweeper(ctx, policyClock(env.testPolicyClock), (message) => log.error(message));
  // Audit streaming and retention run here, off the request path and never in a proxy worker.
  const auditBackground = startAuditBackground(ctx);

  let web: http.Server | null = null;
  if (serveDashboard) {
    const app = next({ dev: false, dir: __dirname, hostname: env.hostname, port: env.port });
    await app.prepare();
    const handle = app.getRequestHandler();
    const probe = () => readiness(ctx.db, env.dataDir);
    const server = http.createServer((req, res) => {
      if (answerHealth(req, res, probe)) return;
      if (answerMetrics(req, res, env.metricsToken, clusterMetricsText)) return;
      if (req.url?.startsWith("/proxy/")) return proxy.handleEmbedded(req, res);
      if (req.url === "/api/v1/ca.pem" && (req.method === "GET" || req.method === "HEAD")) {
        securityHeaders(res, API_SECURITY_HEADERS);
        return proxy.serveCaCertificate(req, res);
      }
      // The sign-in throttle's per-source key: the socket's address, never a header the client chose.
      req.headers["x-gatehouse-client-address"] = req.socket.remoteAddress ?? "unknown";
      if (!boundRequestBody(req, res)) return;
      void handle(req, res);
    });
    // A balancer (or any pooling client) must be the side that drops an idle connection; headers
    // get a little longer, so a request that arrives as the connection ages is not cut off.
    server.keepAliveTimeout = env.dashboardKeepAlive;
    server.headersTimeout = env.dashboardKeepAlive + 1_000;
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(env.port, env.hostname, () => resolve());
    }).catch((err: NodeJS.ErrnoException) => fail(`dashboard port ${env.hostname}:${env.port}: ${err.code ?? err.message}`));
    web = server;
  }
  // The forward proxy runs in worker processes (env.proxyWorkers); this process serves the dashboard
  // and the embedded route.
  let forward: ForwardProxies | null = null;
  if (serveProxy)
    forward = await startForwardProxies(env.proxyWorkers).catch((err: Error) =>
      fail(`proxy port ${env.proxyHost}:${env.proxyPort}: ${err.message}`),
    );

  const serving = [
    web && `dashboard on ${env.publicUrl.replace(/:\d+$/, `:${(web.address() as { port: number }).port}`)}`,
    forward && `proxy on ${env.proxyHost}:${forward.port}`,
  ].filter(Boolean);
  log.info(`${serving.join(", ")}${env.serve === "all" ? "" : ` (GATEHOUSE_SERVE=${env.serve})`}`);

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    sweeper.stop();
    log.info(`${signal}, shutting down`);
    web?.closeIdleConnections();
    const timer = setTimeout(() => process.exit(0), 5000);
    timer.unref();
    Promise.all([web && new Promise((r) => web.close(() => r(null))), proxy.close(), forward?.close()])
      .then(() => auditBackground.stop())
      .then(() => importer.stop())
      .then(() => closeDatabase(ctx.db))
      .then(() => process.exit(0))
      .catch(() => process.exit(1));
  };
  process.on("SIGINT", () => stop("SIGINT"));
  process.on("SIGTERM", () => stop("SIGTERM"));
}

main().catch((err: unknown) => fail(err instanceof Error ? err.message : String(err)));
