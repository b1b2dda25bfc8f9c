// A readable diff between two policy documents: named lists (bundles, connections) are keyed
// by name, lists of strings by value.
export type Change = { path: string; op: "added" | "removed" | "changed"; before?: unknown; after?: unknown };

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

export function diffPolicy(before: unknown, after: unknown): Change[] {
  const out: Change[] = [];
  walk(before as Json, after as Json, "", out);
  return out;
}

function isObject(v: Json | undefined): v is { [k: string]: Json } {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function named(list: Json[]): boolean {
  return list.every((x) => isObject(x) && typeof x.name === "string");
}

function walk(a: Json | undefined, b: Json | undefined, path: string, out: Change[]): void {
  if (a === undefined && b === undefined) return;
  if (a === undefined) return void out.push({ path, op: "added", after: b });
  if (b === undefined) return void out.push({ path, op: "removed", before: a });
  if (Array.isArray(a) && Array.isArray(b)) {
    if (named(a) && named(b)) {
      const key = (x: Json) => (x as { name: string }).name;
      const am = new Map(a.map((x) => [key(x), x]));
      const bm = new Map(b.map((x) => [key(x), x]));
      for (const [k, v] of am) walk(v, bm.get(k), `${path}[${k}]`, out);
      for (const [k, v] of bm) if (!am.has(k)) walk(undefined, v, `${path}[${k}]`, out);
      return;
    }
    if (a.every((x) => typeof x !== "object") && b.every((x) => typeof x !== "object")) {
      for (const x of a) if (!b.includes(x)) out.push({ path, op: "removed", before: x });
      for (const x of b) if (!a.includes(x)) out.push({ path, op: "added", after: x });
      return;
    }
    if (JSON.stringify(a) !== JSON.stringify(b)) out.push({ path, op: "changed", before: a, after: b });
    return;
  }
  if (isObject(a) && isObject(b)) {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    for (const k of keys) walk(a[k], b[k], path ? `${path}.${k}` : k, out);
    return;
  }
  if (JSON.stringify(a) !== JSON.stringify(b)) out.push({ path, op: "changed", before: a, after: b });
}
