// Which way the imports point (STYLE.md "The layout"): checked over the sources, so a shortcut
// back across a layer fails the suite.
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";

const root = path.join(__dirname, "..");

function sources(dir: string): string[] {
  return fs.readdirSync(path.join(root, dir), { withFileTypes: true, recursive: true }).filter((e) => e.isFile() && /\.tsx?$/.test(e.name)).map((e) => path.relative(root, path.join(e.parentPath, e.name)));
}

function importsOf(file: string): string[] {
  const text = fs.readFileSync(path.join(root, file), "utf8");
  return [...text.matchAll(/(?:^|\n)\s*(?:import|export)[^"';]*?from\s+["']([^"']+)["']/g)].map((m) => {
    const spec = m[1]!;
    if (spec.startsWith("@/")) return spec.slice(2);
    if (spec.startsWith(".")) return path.relative(root, path.resolve(path.dirname(path.join(root, file)), spec));
    return spec;
  });
}

function violations(dir: string, forbidden: RegExp, opts: { tests?: boolean } = {}): string[] {
  return sources(dir).filter((f) => opts.tests !== false || !/\.test\.tsx?$/.test(f)).flatMap((f) => importsOf(f).filter((i) => forbidden.test(i)).map((i) => `${f} → ${i}`));
}

describe("layering", () => {
  it("components/ import nothing from app/", () => {
    expect(violations("components", /^app\//)).toEqual([]);
  });
  it("lib/ imports nothing from app/ and nothing Next-only outside the adapters beside app/", () => {
    expect(violations("lib", /^app\/|^next\/|^next-auth/)).toEqual([]);
  });
  it("lib/auth does not import lib/services (the Next.js adapters live in app/_auth)", () => {
    expect(violations("lib/auth", /^lib\/services\//)).toEqual([]);
  });
  it("lib/proxy and lib/services do not import each other (tests may build fixtures through services)", () => {
    expect(violations("lib/proxy", /^lib\/services\//, { tests: false })).toEqual([]);
    expect(violations("lib/services", /^lib\/proxy\//, { tests: false })).toEqual([]);
  });
  it("no source file in lib/proxy passes 400 lines (#15: a file that needs a table of contents is several files)", () => {
    const long = sources("lib/proxy").filter((f) => !/\.test\.tsx?$/.test(f)).filter((f) => fs.readFileSync(path.join(root, f), "utf8").split("\n").length > 400);
    expect(long).toEqual([]);
  });
});
