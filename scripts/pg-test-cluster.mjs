#!/usr/bin/env node
// A throwaway PostgreSQL cluster for tests, CI and benchmarks: initdb in a temporary directory,
// a free TCP port on 127.0.0.1 plus a private unix socket directory, one database, removed after.
// initdb refuses root, so under uid 0 every server binary runs as the `postgres` user that
// Debian's package creates (runuser); as any other user it runs as that user.
//
//   import { startPgCluster } from "./scripts/pg-test-cluster.mjs";
//   const pg = await startPgCluster();   // pg.url = postgres://gatehouse@127.0.0.1:PORT/gatehouse
//   await pg.stopServer(); await pg.startServer();  // same data and port: a database outage
//   await pg.stop();                                // server down, directory removed
//
//   node scripts/pg-test-cluster.mjs -- <command…>   runs the command with GATEHOUSE_DATABASE_URL
//                                                    (and PG* variables) set, then removes the cluster
//   node scripts/pg-test-cluster.mjs                 prints the URL and keeps it until Ctrl-C
import { execFileSync, spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const PG_USER = "postgres";

/** The directory holding initdb/pg_ctl: $GATEHOUSE_PG_BIN, Debian's newest /usr/lib/postgresql/N/bin, or PATH. */
export function findPgBin() {
  const fromEnv = process.env.GATEHOUSE_PG_BIN;
  if (fromEnv && fs.existsSync(path.join(fromEnv, "initdb"))) return fromEnv;
  const base = "/usr/lib/postgresql";
  if (fs.existsSync(base)) {
    const versions = fs
      .readdirSync(base)
      .filter((v) => fs.existsSync(path.join(base, v, "bin", "initdb")))
      .sort((a, b) => Number(b) - Number(a));
    if (versions.length) return path.join(base, versions[0], "bin");
  }
  const r = spawnSync("sh", ["-c", "command -v initdb"], { encoding: "utf8" });
  if (r.status === 0 && r.stdout.trim()) return path.dirname(r.stdout.trim());
  throw new Error("PostgreSQL server binaries not found (apt-get install postgresql, or set GATEHOUSE_PG_BIN)");
}

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

const asRoot = typeof process.getuid === "function" && process.getuid() === 0;

function runAsPg(bin, args, opts = {}) {
  const [cmd, argv] = asRoot ? ["runuser", ["-u", PG_USER, "--", bin, ...args]] : [bin, args];
  const r = spawnSync(cmd, argv, { encoding: "utf8", ...opts });
  if (r.status !== 0) {
    throw new Error(`${path.basename(bin)} failed (exit ${r.status}): ${(r.stderr || r.stdout || "").trim().slice(-2000)}`);
  }
  return r.stdout;
}

/**
 * Start a fresh cluster. `durable: false` (the default, for tests) turns fsync off; benchmarks
 * pass `durable: true` so that commits cost what they cost in production.
 */
export async function startPgCluster({ database = "gatehouse", user = "gatehouse", durable = false, settings = {} } = {}) {
  const bin = findPgBin();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "gatehouse-pg-"));
  const dataDir = path.join(dir, "data");
  const socketDir = path.join(dir, "sock");
  const logFile = path.join(dir, "postgres.log");
  fs.mkdirSync(socketDir);
  fs.writeFileSync(logFile, "");
  if (asRoot) {
    const uid = Number(execFileSync("id", ["-u", PG_USER], { encoding: "utf8" }).trim());
    const gid = Number(execFileSync("id", ["-g", PG_USER], { encoding: "utf8" }).trim());
    for (const p of [dir, socketDir, logFile]) fs.chownSync(p, uid, gid);
  }
  let stopped = false;
  const cleanup = () => {
    fs.rmSync(dir, { recursive: true, force: true });
  };
  try {
    runAsPg(path.join(bin, "initdb"), ["-D", dataDir, "-U", user, "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync"]);
    const port = await freePort();
    const conf = {
      listen_addresses: "'127.0.0.1'",
      port: String(port),
      unix_socket_directories: `'${socketDir}'`,
      max_connections: "200",
      shared_buffers: "128MB",
      fsync: durable ? "on" : "off",
      synchronous_commit: durable ? "on" : "off",
      full_page_writes: durable ? "on" : "off",
      log_min_messages: "warning",
      ...settings,
    };
    fs.appendFileSync(
      path.join(dataDir, "postgresql.conf"),
      "\n# gatehouse test cluster\n" +
        Object.entries(conf)
          .map(([k, v]) => `${k} = ${v}`)
          .join("\n") +
        "\n",
    );
    const pgCtl = path.join(bin, "pg_ctl");
    const startServer = async () => {
      runAsPg(pgCtl, ["-D", dataDir, "-l", logFile, "-w", "-t", "60", "start"]);
    };
    const stopServer = async (mode = "fast") => {
      runAsPg(pgCtl, ["-D", dataDir, "-m", mode, "-w", "-t", "60", "stop"]);
    };
    await startServer();
    runAsPg(path.join(bin, "createdb"), ["-h", socketDir, "-p", String(port), "-U", user, database]);
    const url = `postgres://${user}@127.0.0.1:${port}/${database}`;
    /** Synchronous, so that a process's "exit" handler can call it. */
    const stopNow = () => {
      if (stopped) return;
      stopped = true;
      try {
        runAsPg(pgCtl, ["-D", dataDir, "-m", "immediate", "-w", "-t", "60", "stop"]);
      } catch {
        // already down (a test stopped it): only the directory is left
      }
      cleanup();
    };
    const stop = async () => stopNow();
    return {
      url,
      port,
      host: "127.0.0.1",
      user,
      database,
      dir,
      socketDir,
      logFile,
      bin,
      env: { GATEHOUSE_DATABASE_URL: url, PGHOST: "127.0.0.1", PGPORT: String(port), PGUSER: user, PGDATABASE: database },
      /** psql against the cluster; returns stdout (unaligned, tuples only). */
      psql: (sql) =>
        runAsPg(path.join(bin, "psql"), [
          "-h",
          socketDir,
          "-p",
          String(port),
          "-U",
          user,
          "-d",
          database,
          "-XAtq",
          "-v",
          "ON_ERROR_STOP=1",
          "-c",
          sql,
        ]),
      startServer,
      stopServer,
      stopNow,
      stop,
    };
  } catch (err) {
    try {
      runAsPg(path.join(bin, "pg_ctl"), ["-D", dataDir, "-m", "immediate", "stop"]);
    } catch {
      // was not running
    }
    cleanup();
    throw err;
  }
}

async function main(argv) {
  const sep = argv.indexOf("--");
  const cmd = sep >= 0 ? argv.slice(sep + 1) : [];
  const pg = await startPgCluster({ durable: argv.includes("--durable") });
  let exiting = false;
  const finish = async (code) => {
    if (exiting) return;
    exiting = true;
    await pg.stop();
    process.exit(code);
  };
  process.on("SIGINT", () => void finish(130));
  process.on("SIGTERM", () => void finish(143));
  if (!cmd.length) {
    console.log(pg.url);
    console.error(`PostgreSQL test cluster in ${pg.dir} (log ${pg.logFile}); Ctrl-C removes it`);
    return;
  }
  const child = spawn(cmd[0], cmd.slice(1), { stdio: "inherit", env: { ...process.env, ...pg.env } });
  child.on("exit", (code, signal) => void finish(code ?? (signal ? 1 : 0)));
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).catch((err) => {
    console.error(`pg-test-cluster: ${err.message}`);
    process.exit(1);
  });
}
