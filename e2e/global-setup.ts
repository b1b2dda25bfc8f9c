// Starts one real Gatehouse the way `npm start` does, on a temporary data directory, with a test
// CA its upstream TLS trusts and test host names resolved to loopback.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { createCertificateAuthority, issueLeafForNames } from "../lib/proxy/certificates";
import { e2eGatehouseEnv, startGatehouse } from "./fixtures/gatehouse";
import { TEST_HOSTS } from "./fixtures/hosts";
import { STATE_FILE, type E2eState } from "./fixtures/state";

export default async function globalSetup(): Promise<void> {
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
  const logFile = path.join(tmp, "server.log");
  const g = await startGatehouse({ GATEHOUSE_DATA_DIR: dataDir, ...e2eGatehouseEnv(certDir, owner, TEST_HOSTS) }, { logFile });
  const state: E2eState = {
    baseURL: g.baseURL,
    proxyPort: g.proxyPort,
    dataDir,
    logFile,
    pid: g.pid,
    owner,
    upstreamCaPem: ca.certPem,
    upstreamCertDir: certDir,
  };
  fs.mkdirSync(path.dirname(STATE_FILE), { recursive: true });
  fs.writeFileSync(STATE_FILE, JSON.stringify(state, null, 2));
}
