// `npm start` rebuilds when the sources changed since the build, and only then: scripts/start.mjs
// run for real (--build-only) in a scratch tree whose `next build` is a stand-in that counts.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { expect, test } from "@playwright/test";

const root = path.join(__dirname, "..");

const FAKE_NEXT = `const fs = require("node:fs");
fs.appendFileSync("builds.log", "build\\n");
if (process.env.FAKE_BUILD_FAILS) process.exit(3);
fs.mkdirSync(".next", { recursive: true });
fs.writeFileSync(".next/BUILD_ID", String(Date.now()));
`;

function scratchTree(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "gatehouse-start-"));
  const put = (rel: string, text: string) => {
    fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    fs.writeFileSync(path.join(dir, rel), text);
  };
  for (const f of ["start.mjs", "build-stamp.mjs"]) put(`scripts/${f}`, fs.readFileSync(path.join(root, "scripts", f), "utf8"));
  put("node_modules/next/dist/bin/next", FAKE_NEXT);
  put("app/page.tsx", "export default function Page() { return null; }\n");
  put("lib/a.ts", "export const a = 1;\n");
  put("lib/a.test.ts", "// a unit test\n");
  put("package-lock.json", "{}\n");
  return dir;
}

test("npm start builds when there is no build or a source changed, and not otherwise", async () => {
  const dir = scratchTree();
  const start = (env: Record<string, string> = {}) => {
    // The launcher's text lines (pretty): this spec is about when it builds, not how it logs.
    const r = spawnSync(process.execPath, ["scripts/start.mjs", "--build-only"], {
      cwd: dir,
      encoding: "utf8",
      env: { ...process.env, GATEHOUSE_LOG_FORMAT: "pretty", ...env },
    });
    return { code: r.status, stderr: r.stderr };
  };
  const builds = () => fs.readFileSync(path.join(dir, "builds.log"), "utf8").split("\n").filter(Boolean).length;
  const edit = (rel: string, text: string) => {
    fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    fs.writeFileSync(path.join(dir, rel), text);
  };
  try {
    expect(start().stderr).toContain("no build found");
    expect(builds()).toBe(1);
    expect(start()).toEqual({ code: 0, stderr: "" });
    expect(builds()).toBe(1);

    edit("lib/a.ts", "export const a = 2;\n");
    expect(start().stderr).toContain("the sources changed since the last build");
    expect(builds()).toBe(2);
    expect(start().code).toBe(0);
    expect(builds()).toBe(2);

    // A unit test never reaches the bundle; a new file, a rename or a lockfile change does.
    edit("lib/a.test.ts", "// another unit test\n");
    start();
    expect(builds()).toBe(2);
    edit("components/b.tsx", "export const b = 1;\n");
    start();
    expect(builds()).toBe(3);
    fs.renameSync(path.join(dir, "components/b.tsx"), path.join(dir, "components/c.tsx"));
    start();
    expect(builds()).toBe(4);
    edit("package-lock.json", '{ "lockfileVersion": 3 }\n');
    start();
    expect(builds()).toBe(5);

    // A failed build records nothing, so the next start tries again.
    edit("lib/a.ts", "export const a = 3;\n");
    const failed = start({ FAKE_BUILD_FAILS: "1" });
    expect(failed.code).not.toBe(0);
    expect(failed.stderr).toContain("build failed");
    expect(start().code).toBe(0);
    expect(builds()).toBe(7);

    // A bare `next build` newer than every source is taken as current; an older one is not.
    fs.rmSync(path.join(dir, ".next", "gatehouse-source.sha256"));
    expect(start()).toEqual({ code: 0, stderr: "" });
    expect(builds()).toBe(7);
    fs.rmSync(path.join(dir, ".next", "gatehouse-source.sha256"));
    const past = new Date(Date.now() - 60_000);
    fs.utimesSync(path.join(dir, ".next", "BUILD_ID"), past, past);
    expect(start().stderr).toContain("no record of its sources");
    expect(builds()).toBe(8);

    // --no-build serves what there is, stale or not, and refuses to start with nothing to serve.
    edit("lib/a.ts", "export const a = 4;\n");
    const noBuild = (env: Record<string, string> = {}) => {
      const r = spawnSync(process.execPath, ["scripts/start.mjs", "--no-build", "--build-only"], {
        cwd: dir,
        encoding: "utf8",
        env: { ...process.env, GATEHOUSE_LOG_FORMAT: "pretty", ...env },
      });
      return { code: r.status, stderr: r.stderr };
    };
    expect(noBuild()).toEqual({ code: 0, stderr: "" });
    expect(builds()).toBe(8);
    fs.rmSync(path.join(dir, ".next"), { recursive: true });
    expect(noBuild()).toEqual({ code: 1, stderr: "gatehouse: no build found, and --no-build says not to make one\n" });
    expect(builds()).toBe(8);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("the source hash over this repository takes well under a second", async () => {
  const { sourceHash, sourceFiles } = (await import(path.join(root, "scripts", "build-stamp.mjs"))) as {
    sourceHash(r: string): string;
    sourceFiles(r: string): string[];
  };
  const started = process.hrtime.bigint();
  const hash = sourceHash(root);
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  test.info().annotations.push({ type: "source hash", description: `${sourceFiles(root).length} files in ${ms.toFixed(0)} ms` });
  expect(hash).toMatch(/^[0-9a-f]{64}$/);
  expect(ms).toBeLessThan(1000);
});
