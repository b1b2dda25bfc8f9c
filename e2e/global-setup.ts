// Starts one real Gatehouse the way `npm start` does, on a temporary data directory, with a test
// CA its upstream TLS trusts and test host names resolved to loopback.
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { createCertificateAuthority, issueLeafForNames } from "../lib/proxy/certificates";
import { TEST_HOSTS } from "./fixtures/hosts";
import { freePort } from "./fixtures/ports";
import { STATE_FILE, type E2eState } from "./fixtures/state";

const root = path.join(__dirname, "..");

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

  const port = await freePort();
  const proxyPort = await freePort();
  const owner = { email: "owner@gatehouse.test", password: "owner-password-not-real-1" };
  const logFile = path.join(tmp, "server.log");
  const log = fs.openSync(logFile, "a");
  const child = spawn(process.execPath, [path.join(root, "scripts", "start.mjs")], {
    cwd: root,
    env: {
      ...process.env,
      PORT: String(port),
      HOSTNAME: "127.0.0.1",
      GATEHOUSE_PROXY_PORT: String(proxyPort),
      GATEHOUSE_DATA_DIR: dataDir,
      GATEHOUSE_OWNER_EMAIL: owner.email,
      GATEHOUSE_OWNER_PASSWORD: owner.password,
      GATEHOUSE_UPSTREAM_CA: path.join(certDir, "ca.pem"),
      GATEHOUSE_ALLOW_PRIVATE: "127.0.0.0/8,::1/128",
      // Two workers whatever the machine: every cross-process path (revocation, live policy,
      // the shared journal import, a worker's replacement) is exercised.
      GATEHOUSE_PROXY_WORKERS: "2",
      // Short timeouts, so the tests of each one wait seconds rather than minutes.
      GATEHOUSE_PROXY_TIMEOUTS: "connect=3s,request-headers=3s,request=6s,response-headers=3s,idle=3s,tunnel-idle=6s",
      // Small enough that a test can reach it (per worker), above the bursts other specs open
      // (audit.spec: 120 at once over two workers); every test connects from 127.0.0.1.
      GATEHOUSE_PROXY_LIMITS: "unauthenticated-per-peer=100",
      // meta.gh.test stands for a name that resolves to the cloud metadata address.
      GATEHOUSE_RESOLVE: [...TEST_HOSTS.map((h) => `${h}=127.0.0.1`), "meta.gh.test=169.254.169.254"].join(","),
      NEXT_TELEMETRY_DISABLED: "1",
    },
    stdio: ["ignore", log, log],
    detached: false,
  });
  const baseURL = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 120_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`gatehouse exited during start:\n${fs.readFileSync(logFile, "utf8")}`);
    try {
      const res = await fetch(`${baseURL}/signin`);
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`gatehouse did not start:\n${fs.readFileSync(logFile, "utf8")}`);
    await new Promise((r) => setTimeout(r, 250));
  }
  const state: E2eState = { baseURL, proxyPort, dataDir, logFile, pid: child.pid!, owner, upstreamCaPem: ca.certPem, upstreamCertDir: certDir };
  fs.mkdirSync(path.dirname(STATE_FILE), { recursive: true });
  fs.writeFileSync(STATE_FILE, JSON.stringify(state, null, 2));
}
