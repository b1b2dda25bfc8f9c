// Turns a PUT /api/v1/policy body (or a CLI import file) into a document, in time linear in its
// size and bounded whatever its shape: JSON goes to JSON.parse; YAML is pre-counted, then parsed
// without the yaml package's quadratic duplicate-key check, and checked by our own linear one.
import YAML, { isAlias, isMap, isPair, isScalar, isSeq, type Node } from "yaml";
import { AppError } from "../../errors";

/**
 * At most this many YAML entries (lines plus flow items): the yaml package spends 30-60 µs on
 * each here, so the cap keeps any YAML body under ~250 ms. Larger policies travel as JSON.
 */
export const POLICY_YAML_MAX_ENTRIES = 4_000;
export const POLICY_MAX_DEPTH = 32;
export const POLICY_YAML_MAX_ALIASES = 100;

function bad(message: string): AppError {
  return new AppError("bad_request", message, { field: "(body)" });
}

function looksLikeJson(text: string, contentType: string | null | undefined): boolean {
  if (contentType && /\bjson\b/i.test(contentType)) return true;
  const first = /\S/.exec(text)?.[0];
  return first === "{" || first === "[";
}

/** An upper bound on the nodes the YAML parser will build, read in one pass without parsing. */
export function countYamlEntries(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    // \n , [ {
    if (c === 10 || c === 44 || c === 91 || c === 123) n++;
  }
  return n + 1;
}

/** Duplicate keys, depth and size, in one walk with an explicit stack (deep input cannot overflow it). */
function checkYamlTree(root: Node | null | undefined): void {
  const stack: { node: unknown; depth: number }[] = [{ node: root, depth: 1 }];
  while (stack.length) {
    const { node, depth } = stack.pop()!;
    if (depth > POLICY_MAX_DEPTH) throw bad(`the document nests deeper than ${POLICY_MAX_DEPTH} levels`);
    if (isMap(node)) {
      const seen = new Set<string>();
      for (const pair of node.items) {
        if (!isPair(pair)) continue;
        const key = pair.key;
        if (!isScalar(key)) throw bad("only plain keys are allowed in a policy document");
        const name = String(key.value);
        if (seen.has(name)) throw bad(`duplicate key "${name.slice(0, 100)}"`);
        seen.add(name);
        stack.push({ node: pair.value, depth: depth + 1 });
      }
    } else if (isSeq(node)) {
      for (const item of node.items) stack.push({ node: item, depth: depth + 1 });
    } else if (isAlias(node)) {
      // Resolved by toJS under maxAliasCount.
    }
  }
}

/** The deepest bracket nesting of JSON text, outside strings, read before JSON.parse (deep input is slow there). */
export function jsonNestingDepth(text: string): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92 /* backslash */) i++;
      else if (c === 34 /* " */) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 91 || c === 123) {
      if (++depth > max) max = depth;
    } else if (c === 93 || c === 125) depth--;
  }
  return max;
}

export function parsePolicyText(text: string, contentType?: string | null): unknown {
  if (looksLikeJson(text, contentType)) {
    if (jsonNestingDepth(text) > POLICY_MAX_DEPTH) throw bad(`the document nests deeper than ${POLICY_MAX_DEPTH} levels`);
    try {
      return JSON.parse(text) as unknown;
    } catch (err) {
      if (err instanceof AppError) throw err;
      // A declared JSON body must be JSON; otherwise `{a: 1}` may still be YAML's flow style.
      if (contentType && /\bjson\b/i.test(contentType)) throw bad("the body is not valid JSON");
    }
  }
  const entries = countYamlEntries(text);
  if (entries > POLICY_YAML_MAX_ENTRIES)
    throw bad(`the YAML document has more than ${POLICY_YAML_MAX_ENTRIES} entries; send larger documents as JSON`);
  let doc: YAML.Document.Parsed;
  try {
    doc = YAML.parseDocument(text, { uniqueKeys: false, prettyErrors: false });
  } catch {
    throw bad("the body is neither valid JSON nor YAML");
  }
  if (doc.errors.length) throw bad("the body is neither valid JSON nor YAML");
  checkYamlTree(doc.contents);
  try {
    return doc.toJS({ maxAliasCount: POLICY_YAML_MAX_ALIASES });
  } catch {
    throw bad("the YAML document expands too far (aliases)");
  }
}
