// What a build was made from: a hash over the sources `next build` reads, recorded beside the
// build, so `npm start` rebuilds after a `git pull` instead of serving yesterday's dashboard.
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";

const SOURCE_DIRS = ["app", "components", "lib", "db", "public"];
const SOURCE_FILES = ["package.json", "package-lock.json", "next.config.js", "postcss.config.mjs", "tsconfig.json"];
// Unit tests sit beside the code but never reach the bundle.
const NOT_BUILT = /\.test\.[cm]?[jt]sx?$/;
export const STAMP_FILE = path.join(".next", "gatehouse-source.sha256");

function walk(root, rel, out) {
  let entries;
  try {
    entries = fs.readdirSync(path.join(root, rel), { withFileTypes: true });
  } catch {
    return;
  }
  for (const e of entries) {
    const p = path.posix.join(rel, e.name);
    if (e.isDirectory()) {
      if (e.name !== "node_modules" && !e.name.startsWith(".")) walk(root, p, out);
    } else if (e.isFile() && !NOT_BUILT.test(e.name)) out.push(p);
  }
}

/** The build's sources, relative to root, in a stable order. */
export function sourceFiles(root) {
  const out = [];
  for (const d of SOURCE_DIRS) walk(root, d, out);
  for (const f of SOURCE_FILES) if (fs.existsSync(path.join(root, f))) out.push(f);
  return out.sort();
}

/** sha256 over each source's path and content (a rename or a new file changes it too). */
export function sourceHash(root) {
  const h = crypto.createHash("sha256");
  for (const f of sourceFiles(root)) {
    const body = fs.readFileSync(path.join(root, f));
    h.update(`${f}\0${body.length}\0`);
    h.update(body);
  }
  return h.digest("hex");
}

/**
 * Why a build is needed, or null when the one in .next was made from these sources. A build
 * with no record (made by a bare `next build`) counts as current while it is newer than every
 * source, and the record is then written for it.
 */
export function staleBuild(root, hash = sourceHash(root)) {
  const buildId = path.join(root, ".next", "BUILD_ID");
  if (!fs.existsSync(buildId)) return "no build found";
  let recorded = null;
  try {
    recorded = fs.readFileSync(path.join(root, STAMP_FILE), "utf8").trim();
  } catch {
    const built = fs.statSync(buildId).mtimeMs;
    if (sourceFiles(root).every((f) => fs.statSync(path.join(root, f)).mtimeMs < built)) {
      recordBuild(root, hash);
      return null;
    }
    return "the build has no record of its sources and some are newer";
  }
  return recorded === hash ? null : "the sources changed since the last build";
}

export function recordBuild(root, hash) {
  fs.writeFileSync(path.join(root, STAMP_FILE), `${hash}\n`);
}
