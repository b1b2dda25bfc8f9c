// Starts one real Gatehouse the way `npm start` does, on a temporary data directory, with a test
// CA its upstream TLS trusts and test host names resolved to loopback.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { createCertificateAuthority, issueLeafForNames } from "../lib/proxy/certificates";
import { e2eGatehouseEnv, startGatehouse } from "./fixtures/gatehouse";
import { startReplicaSet } from "./fixtures/replicas";
import { TEST_HOSTS } from "./fixtures/hosts";
import { STATE_FILE, type E2eState } from "./fixtures/state";

export default async function globalSetup(): Promise<void | (() => Promise<void>)> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "gatehouse-e2e-"));
  const dataDir = path.join(tmp, "data");
  const certDir = path.join(tmp, "upstream-certs");
  fs.mkdirSync(certDir);
  const ca = await createCertificateAuthority("Gatehouse e2e upstream test CA");
  const leaf = await issueLeafForNames({ names: [...TEST_HOSTS, "localhost", "127.0.0.1"], caCertPem: ca.certPem, caKeyPem: ca.keyPem });
  fs.writeFileSync(path.join(certDir, "ca.pem"), ca.certPem);
  fs.writeFileSync(path.join(certDir, "leaf.pem"), leaf.certPem);
  fs.writeFileSync(path.join(certDir, "leaf.key"), leaf.keyPem);

  const owner = { email: "owner@gatehouse.test", password: "owner-password-not-real-1" };
  if (process.env.GATEHOUSE_E2E_DATABASE === "pg") return replicasOnPostgres(tmp, dataDir, certDir, owner, ca.certPem);
  const logFile = path.join(tmp, "server.log");
  const g = await startGatehouse({ GATEHOUSE_DATA_DIR: dataDir, ...e2eGatehouseEnv(certDir, owner, TEST_HOSTS) }, { logFile });
  const state: E2eState = {
    baseURL: g.baseURL,
    proxyPort: g.proxyPort,
    dataDir,
    logFile,
    pid: g.pid,
    proxyDataDir: dataDir,
    proxyPid: g.pid,
    proxyLogFile: logFile,
    owner,
    upstreamCaPem: ca.certPem,
    upstreamCertDir: certDir,
  };
  fs.mkdirSync(path.dirname(STATE_FILE), { recursive: true });
  fs.writeFileSync(STATE_FILE, JSON.stringify(state, null, 2));
}

/**
 * GATEHOUSE_E2E_DATABASE=pg: the same specs against replicas on a throwaway PostgreSQL, one
 * GATEHOUSE_SERVE=dashboard replica (baseURL) and two GATEHOUSE_SERVE=proxy replicas (proxyPort
 * is the first's). The CLI the specs run reaches the same database through the env set here,
 * which Playwright's workers inherit. Returns the teardown.
 */
async function replicasOnPostgres(
  tmp: string,
  dataDir: string,
  certDir: string,
  owner: { email: string; password: string },
  upstreamCaPem: string,
): Promise<() => Promise<void>> {
  // Two proxy workers each, as the SQLite pass's server has: the worker-supervision specs need them.
  const set = await startReplicaSet({ proxies: 2, upstreamCertDir: certDir, owner, logDir: tmp, env: { GATEHOUSE_PROXY_WORKERS: "2" } });
  for (const k of ["GATEHOUSE_DATABASE_URL", "GATEHOUSE_MASTER_KEY", "NEXTAUTH_SECRET"] as const) process.env[k] = set.sharedEnv[k];
  // e2e/fixtures/pg-read.ts runs psql from the cluster's binaries.
  process.env.GATEHOUSE_PG_BIN ??= set.pg.bin;
  const d = set.dashboard;
  const state: E2eState = {
    baseURL: d.baseURL,
    proxyPort: set.proxies[0]!.proxyPort,
    dataDir: d.dataDir,
    logFile: path.join(tmp, "dashboard-0.log"),
    pid: d.pid,
    proxyDataDir: set.proxies[0]!.dataDir,
    proxyPid: set.proxies[0]!.pid,
    proxyLogFile: set.proxies[0]!.logFile,
    owner,
    upstreamCaPem,
    upstreamCertDir: certDir,
  };
  void dataDir;
  fs.mkdirSync(path.dirname(STATE_FILE), { recursive: true });
  fs.writeFileSync(STATE_FILE, JSON.stringify(state, null, 2));
  return () => set.stop();
}
