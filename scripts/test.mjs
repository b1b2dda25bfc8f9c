// `npm test`: type-check, lint, the formatter's check, unit tests, a fresh build, then the end-to-end suite against the
// real server. Ends with one line "N passed, N failed" totalling every suite.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const tmp = path.join(root, ".tmp");
fs.mkdirSync(tmp, { recursive: true });
const env = { ...process.env, NEXT_TELEMETRY_DISABLED: "1", PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD: "1" };
const bin = (name) => path.join(root, "node_modules", ".bin", name);
const only = process.argv.slice(2);

let passed = 0;
let failed = 0;
// What failed, repeated at the end: CI keeps only the tail of the output.
const failures = [];

function step(name, cmd, args, extraEnv = {}) {
  if (only.length && !only.includes(name)) return null;
  console.log(`\n=== ${name}: ${[path.basename(cmd), ...args].join(" ")}`);
  const started = Date.now();
  const r = spawnSync(cmd, args, { cwd: root, env: { ...env, ...extraEnv }, stdio: "inherit" });
  console.log(`=== ${name}: ${r.status === 0 ? "ok" : `exit ${r.status}`} in ${((Date.now() - started) / 1000).toFixed(1)}s`);
  if (r.status !== 0) failures.push(`${name}: exit ${r.status}`);
  return r.status === 0;
}

function listPlaywrightFailures(stepName, report) {
  const walk = (suite) => {
    for (const spec of suite.specs ?? [])
      for (const t of spec.tests)
        if (t.status === "unexpected" || t.status === "flaky") {
          const error = t.results.find((res) => res.error)?.error?.message ?? "";
          const firstLine = error
            .replace(/\x1b\[[0-9;]*m/g, "")
            .split("\n")[0]
            .slice(0, 200);
          failures.push(`${stepName}: ${spec.file}:${spec.line} › ${spec.title} (${t.status}) ${firstLine}`.trim());
        }
    for (const child of suite.suites ?? []) walk(child);
  };
  for (const suite of report.suites ?? []) walk(suite);
}

function countCheck(ok) {
  if (ok === null) return;
  if (ok) passed++;
  else failed++;
}

countCheck(step("typecheck", bin("tsc"), ["--noEmit", "-p", "."]));
countCheck(step("lint", bin("eslint"), [".", "--max-warnings", "0"]));
countCheck(step("format", bin("prettier"), ["--check", "--log-level", "warn", "."]));

const vitestJson = path.join(tmp, "vitest.json");
fs.rmSync(vitestJson, { force: true });
const unitOk = step("unit", bin("vitest"), ["run", "--reporter=default", "--reporter=json", `--outputFile.json=${vitestJson}`]);
if (unitOk !== null) {
  if (fs.existsSync(vitestJson)) {
    const r = JSON.parse(fs.readFileSync(vitestJson, "utf8"));
    passed += r.numPassedTests;
    failed += r.numFailedTests + (unitOk ? 0 : r.numFailedTests === 0 ? 1 : 0);
    for (const file of r.testResults)
      for (const t of file.assertionResults)
        if (t.status === "failed") failures.push(`unit: ${path.relative(root, file.name)} › ${t.fullName}`);
  } else failed++;
}

const buildOk = step("build", process.execPath, [path.join(root, "node_modules", "next", "dist", "bin", "next"), "build"], {
  NODE_ENV: "production",
});
countCheck(buildOk);

/** A Playwright pass: its tests counted from the JSON report it writes (see playwright.config.ts), failures listed. */
function playwrightStep(name, reportFile, args, extraEnv = {}) {
  const pwJson = path.join(tmp, reportFile);
  fs.rmSync(pwJson, { force: true });
  const ok = step(name, bin("playwright"), ["test", ...args], extraEnv);
  if (ok === null) return;
  if (!fs.existsSync(pwJson)) {
    failed++;
    return;
  }
  const report = JSON.parse(fs.readFileSync(pwJson, "utf8"));
  listPlaywrightFailures(name, report);
  const s = report.stats;
  passed += s.expected;
  failed += s.unexpected + s.flaky;
  if (!ok && s.unexpected === 0) failed++;
}

if (buildOk !== false) playwrightStep("e2e", "playwright.json", []);

// The same server-facing suites again on PostgreSQL, as replicas (one dashboard, two proxies,
// separate processes, a throwaway cluster), plus the cross-replica specs. Skipped only with the
// SQLite suite (`npm test e2e`); `npm test e2e-pg` runs it alone.
const PG_SPECS = [
  "e2e/replicas.spec.ts",
  "e2e/sessions.spec.ts",
  "e2e/audit.spec.ts",
  "e2e/audit-search.spec.ts",
  "e2e/grants.spec.ts",
  "e2e/embedded-route.spec.ts",
  "e2e/proxy-admission.spec.ts",
  "e2e/proxy-blind.spec.ts",
  "e2e/proxy-clients.spec.ts",
  "e2e/proxy-forward.spec.ts",
  "e2e/proxy-grant-expiry.spec.ts",
  "e2e/proxy-parent.spec.ts",
  "e2e/proxy-paths.spec.ts",
  "e2e/proxy-redaction.spec.ts",
  "e2e/proxy-refusals.spec.ts",
  "e2e/proxy-report-only.spec.ts",
  "e2e/proxy-session-life.spec.ts",
  "e2e/proxy-timeouts.spec.ts",
  "e2e/proxy-tokens.spec.ts",
  "e2e/proxy-tunnels.spec.ts",
  "e2e/proxy-websocket.spec.ts",
];
const pgPass = only.length === 0 || only.includes("e2e-pg");
if (buildOk !== false && pgPass) playwrightStep("e2e-pg", "playwright-pg.json", PG_SPECS, { GATEHOUSE_E2E_DATABASE: "pg" });

if (failures.length) console.log(`\nFailed:\n${failures.map((f) => `  ${f}`).join("\n")}`);
console.log(`\n${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
