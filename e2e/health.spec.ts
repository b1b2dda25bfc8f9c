// GET /healthz and /readyz on both ports, and GATEHOUSE_SERVE=dashboard|proxy as separate
// processes on their own data directories.
import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import Database from "better-sqlite3";
import { expect, test } from "@playwright/test";
import { state } from "./fixtures/app";
import { fatalMessages } from "./fixtures/logs";
import { freePort } from "./fixtures/ports";

const root = path.join(__dirname, "..");

type Answer = { status: number; headers: http.IncomingHttpHeaders; body: string };

/** A request in origin form (`GET /healthz HTTP/1.1`), as a load balancer's probe sends it. */
function originForm(port: number, urlPath: string, method = "GET"): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: "127.0.0.1", port, path: urlPath, method, agent: false }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (d: string) => (body += d));
      res.on("end", () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

function refuses(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, "127.0.0.1");
    s.once("connect", () => (s.destroy(), resolve(false)));
    s.once("error", () => resolve(true));
  });
}

/** A second Gatehouse started as `npm start` starts it, on its own data directory and ports. */
async function startGatehouse(env: Record<string, string>) {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "gh-health-"));
  const port = await freePort();
  const proxyPort = await freePort();
  const child = spawn(process.execPath, [path.join(root, "scripts", "start.mjs")], {
    cwd: root,
    env: {
      ...process.env,
      GATEHOUSE_DATA_DIR: dataDir,
      PORT: String(port),
      HOSTNAME: "127.0.0.1",
      GATEHOUSE_PROXY_PORT: String(proxyPort),
      GATEHOUSE_PROXY_WORKERS: "1",
      GATEHOUSE_OWNER_EMAIL: "",
      GATEHOUSE_OWNER_PASSWORD: "",
      NEXT_TELEMETRY_DISABLED: "1",
      ...env,
    },
  });
  let out = "";
  child.stdout.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr.on("data", (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  const stop = async () => {
    if (child.exitCode === null) child.kill("SIGTERM");
    await exited;
    fs.rmSync(dataDir, { recursive: true, force: true });
  };
  return { dataDir, port, proxyPort, child, exited, out: () => out, stop };
}

function withDb<T>(dataDir: string, fn: (db: Database.Database) => T): T {
  const db = new Database(path.join(dataDir, "gatehouse.db"), { fileMustExist: true });
  try {
    return fn(db);
  } finally {
    db.close();
  }
}

/** A migration this build does not ship: /readyz must say the schema is not current. */
const FUTURE_MIGRATION = 9_999_999_999_999;
const addFutureMigration = (dataDir: string) =>
  withDb(dataDir, (db) => db.prepare("INSERT INTO __drizzle_migrations (hash, created_at) VALUES ('future', ?)").run(FUTURE_MIGRATION));
const removeFutureMigration = (dataDir: string) =>
  withDb(dataDir, (db) => db.prepare("DELETE FROM __drizzle_migrations WHERE created_at = ?").run(FUTURE_MIGRATION));

test("the dashboard port answers /healthz and /readyz before Next, unauthenticated and never cached", async () => {
  const port = Number(new URL(state.baseURL).port);
  const alive = await originForm(port, "/healthz");
  expect(alive.status).toBe(200);
  expect(JSON.parse(alive.body)).toEqual({ status: "ok" });
  expect(alive.headers["cache-control"]).toBe("no-store");
  expect(alive.headers["content-type"]).toMatch(/^application\/json/);
  const ready = await originForm(port, "/readyz");
  expect(ready.status, ready.body).toBe(200);
  expect(JSON.parse(ready.body)).toEqual({ status: "ready" });
  expect(ready.headers["set-cookie"]).toBeUndefined();
  expect((await originForm(port, "/readyz", "HEAD")).status).toBe(200);
});

test("the proxy port answers the same two paths in origin form; other origin-form requests are still refused", async () => {
  const alive = await originForm(state.proxyPort, "/healthz");
  expect(alive.status).toBe(200);
  expect(JSON.parse(alive.body)).toEqual({ status: "ok" });
  expect(alive.headers["cache-control"]).toBe("no-store");
  const ready = await originForm(state.proxyPort, "/readyz");
  expect(ready.status, ready.body).toBe(200);
  expect(JSON.parse(ready.body)).toEqual({ status: "ready" });
  const other = await originForm(state.proxyPort, "/healthz/../admin");
  expect(other.status).toBe(400);
  expect((await originForm(state.proxyPort, "/healthz", "POST")).status).toBe(400);
});

test("GATEHOUSE_SERVE=proxy: no dashboard port; the proxy, its health paths and the audit importer run", async () => {
  const gh = await startGatehouse({ GATEHOUSE_SERVE: "proxy" });
  try {
    await expect.poll(() => gh.out().includes("proxy on"), { timeout: 60_000 }).toBe(true);
    expect(gh.out()).toContain("(GATEHOUSE_SERVE=proxy)");
    expect(gh.out()).not.toContain("dashboard on");
    expect(gh.out()).not.toContain("setup?token=");
    expect(await refuses(gh.port)).toBe(true);

    expect((await originForm(gh.proxyPort, "/healthz")).status).toBe(200);
    expect((await originForm(gh.proxyPort, "/readyz")).status).toBe(200);

    // It proxies: a session from the CLI, a request to a host no bundle allows, refused and
    // recorded; with no dashboard to read the log, this replica's importer moves the record
    // into the chain by itself.
    const cli = spawnSync(
      process.execPath,
      [
        path.join(root, "bin", "gatehouse.js"),
        "session",
        "create",
        "--workspace",
        "T0HEALTH",
        "--channel",
        "C0HEALTH",
        "--member",
        "U0HEALTH",
        "--org-member",
      ],
      { cwd: root, env: { ...process.env, GATEHOUSE_DATA_DIR: gh.dataDir }, encoding: "utf8" },
    );
    expect(cli.status, cli.stderr).toBe(0);
    const token = cli.stdout.trim().split("\n")[0]!;
    const refused = await new Promise<number>((resolve, reject) => {
      const req = http.request(
        {
          host: "127.0.0.1",
          port: gh.proxyPort,
          path: "http://health-blocked.example/x",
          headers: { host: "health-blocked.example", "proxy-authorization": `Bearer ${token}` },
          agent: false,
        },
        (res) => {
          res.resume();
          resolve(res.statusCode!);
        },
      );
      req.on("error", reject);
      req.end();
    });
    expect(refused).toBe(403);
    await expect
      .poll(
        () =>
          withDb(gh.dataDir, (db) =>
            db.prepare("SELECT count(*) FROM audit_events WHERE host = 'health-blocked.example' AND outcome = 'blocked'").pluck().get(),
          ),
        { timeout: 15_000 },
      )
      .toBe(1);

    // Not ready while the database carries a migration this build does not know; ready again after.
    addFutureMigration(gh.dataDir);
    const notReady = await originForm(gh.proxyPort, "/readyz");
    expect(notReady.status).toBe(503);
    expect(JSON.parse(notReady.body)).toEqual({
      status: "not_ready",
      failed: [{ check: "schema", message: expect.stringContaining("newer Gatehouse") }],
    });
    expect((await originForm(gh.proxyPort, "/healthz")).status).toBe(200);
    removeFutureMigration(gh.dataDir);
    expect((await originForm(gh.proxyPort, "/readyz")).status).toBe(200);
  } finally {
    await gh.stop();
  }
});

test("GATEHOUSE_SERVE=dashboard: the dashboard, API and health paths; no proxy port", async () => {
  const gh = await startGatehouse({ GATEHOUSE_SERVE: "dashboard" });
  try {
    await expect.poll(() => gh.out().includes("dashboard on"), { timeout: 60_000 }).toBe(true);
    expect(gh.out()).toContain("(GATEHOUSE_SERVE=dashboard)");
    expect(gh.out()).not.toContain("proxy on");
    expect(await refuses(gh.proxyPort)).toBe(true);
    expect((await fetch(`http://127.0.0.1:${gh.port}/signin`)).status).toBe(200);
    expect((await fetch(`http://127.0.0.1:${gh.port}/api/v1/ca.pem`)).status).toBe(200);
    expect((await originForm(gh.port, "/healthz")).status).toBe(200);
    expect((await originForm(gh.port, "/readyz")).status).toBe(200);
    addFutureMigration(gh.dataDir);
    const notReady = await originForm(gh.port, "/readyz");
    expect(notReady.status).toBe(503);
    expect(JSON.parse(notReady.body).failed.map((f: { check: string }) => f.check)).toEqual(["schema"]);
    removeFutureMigration(gh.dataDir);
    expect((await originForm(gh.port, "/readyz")).status).toBe(200);
  } finally {
    await gh.stop();
  }
});

test("a bad GATEHOUSE_SERVE stops start-up with one line and a non-zero exit", async () => {
  const gh = await startGatehouse({ GATEHOUSE_SERVE: "both" });
  try {
    expect(await gh.exited).not.toBe(0);
    expect(fatalMessages(gh.out())).toEqual(["configuration: GATEHOUSE_SERVE: must be all, dashboard or proxy"]);
  } finally {
    await gh.stop();
  }
});
