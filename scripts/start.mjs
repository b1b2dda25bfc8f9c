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

if (process.argv.includes("--no-build")) {
  if (!fs.existsSync(path.join(root, ".next", "BUILD_ID"))) {
    console.error("gatehouse: no build found, and --no-build says not to make one");
    process.exit(1);
  }
} else {
  buildIfStale();
}
if (process.argv.includes("--build-only")) process.exit(0);

const child = spawn(process.execPath, ["--import", "tsx", path.join(root, "server.ts")], { cwd: root, env, stdio: "inherit" });
for (const sig of ["SIGINT", "SIGTERM"]) process.on(sig, () => child.kill(sig));
child.on("exit", (code, signal) => process.exit(code ?? (signal ? 0 : 1)));

function buildIfStale() {
  const hash = sourceHash(root);
  const why = staleBuild(root, hash);
  if (why) {
    console.error(`gatehouse: ${why}, running \`next build\`…`);
    const build = spawnSync(process.execPath, [path.join(root, "node_modules", "next", "dist", "bin", "next"), "build"], {
      cwd: root,
      env,
      stdio: "inherit",
    });
    if (build.status !== 0) {
      console.error("gatehouse: build failed");
      process.exit(build.status ?? 1);
    }
    // The hash taken before the build: a file edited during it makes the next start build again.
    recordBuild(root, hash);
  }
}
