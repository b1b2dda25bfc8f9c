// `npm start`: build when there is no build or the sources changed since it was made (see
// build-stamp.mjs), then run the composition root (server.ts). `--build-only` stops after that;
// `--no-build` serves the build there is (a second server beside a running one must not rebuild
// the .next the first is serving from).
import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { recordBuild, sourceHash, staleBuild } from "./build-stamp.mjs";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const env = { ...process.env, NODE_ENV: "production", NEXT_TELEMETRY_DISABLED: "1" };

// The same lines as lib/log (GATEHOUSE_LOG_FORMAT; JSON unless on a terminal), written before
// server.ts and its logger exist.
const logFormat = ["json", "pretty"].includes(process.env.GATEHOUSE_LOG_FORMAT)
  ? process.env.GATEHOUSE_LOG_FORMAT
  : process.stdout.isTTY
    ? "pretty"
    : "json";
function say(level, msg, component = "start") {
  if (logFormat === "pretty") return void process.stderr.write(`gatehouse: ${msg}\n`);
  process.stdout.write(JSON.stringify({ level, time: new Date().toISOString(), pid: process.pid, component, msg }) + "\n");
}

if (process.argv.includes("--no-build")) {
  if (!fs.existsSync(path.join(root, ".next", "BUILD_ID"))) {
    say("fatal", "no build found, and --no-build says not to make one");
    process.exit(1);
  }
} else {
  buildIfStale();
}
if (process.argv.includes("--build-only")) process.exit(0);

// Node's warnings reach the logger (lib/log routeProcessOutput) rather than standard error as text.
const child = spawn(process.execPath, ["--import", "tsx", path.join(root, "server.ts")], {
  cwd: root,
  env: { NODE_NO_WARNINGS: "1", ...env },
  stdio: "inherit",
});
for (const sig of ["SIGINT", "SIGTERM"]) process.on(sig, () => child.kill(sig));
child.on("exit", (code, signal) => process.exit(code ?? (signal ? 0 : 1)));

function buildIfStale() {
  const hash = sourceHash(root);
  const why = staleBuild(root, hash);
  if (why) {
    say("info", `${why}, running \`next build\`…`);
    const args = [path.join(root, "node_modules", "next", "dist", "bin", "next"), "build"];
    let build;
    if (logFormat === "pretty") build = spawnSync(process.execPath, args, { cwd: root, env, stdio: "inherit" });
    else {
      // Each line the build prints becomes a log line, so the log stays one JSON object a line.
      build = spawnSync(process.execPath, args, { cwd: root, env, stdio: ["ignore", "pipe", "pipe"], maxBuffer: 64 * 1024 * 1024 });
      for (const [stream, level] of [
        [build.stdout, "info"],
        [build.stderr, "warn"],
      ]) {
        for (const line of String(stream ?? "")
          .replace(/\x1b\[[0-9;]*m/g, "")
          .split("\n"))
          if (line.trim()) say(level, line.trimEnd(), "build");
      }
    }
    if (build.status !== 0) {
      say("fatal", "build failed");
      process.exit(build.status ?? 1);
    }
    // The hash taken before the build: a file edited during it makes the next start build again.
    recordBuild(root, hash);
  }
}
