import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { validatePolicyDocument } from "./document";
import { normalisePath, pathHasPrefix } from "./normalize";

const withPrefix = (pathPrefix: string) =>
  validatePolicyDocument({
    version: 1,
    bundles: [
      {
        name: "a",
        scope: { type: "organization" },
        connections: [{ name: "gh", serviceAccount: "x", inject: { type: "bearer" }, allowedWebsites: ["a.com"], narrow: { pathPrefix } }],
      },
    ],
  });

const stored = (pathPrefix: string) => {
  const r = withPrefix(pathPrefix);
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return r.document.bundles[0]!.connections[0]!.narrow!.pathPrefix;
};

describe("a narrowing pathPrefix is normalised like a request path, or refused", () => {
  it.each([
    ["/repos/acme", "/repos/acme"],
    ["/repos/acme/", "/repos/acme"],
    ["/repos/%61cme", "/repos/acme"],
    ["/repos/acme%7e", "/repos/acme~"],
    ["/repos/a%c3%a9", "/repos/a%C3%A9"],
    ["/", "/"],
  ])("%s is stored as %s", (input, out) => expect(stored(input)).toBe(out));

  it.each([
    ["/repos/[x]", '"["'],
    ["/repos/acme x", '" "'],
    ["/repos/é", '"é"'],
    ["/repos//acme", "an empty segment"],
    ["/repos/./acme", "a dot segment"],
    ["/repos/acme/..", "a dot segment"],
    ["/repos/%2e%2e/acme", "a dot segment"],
    ["/repos;x/acme", "';' parameter"],
    ["/repos%2Facme", "encoded slash"],
    ["/repos/acme?x=1", "no query"],
    ["/repos/%zz", "malformed"],
    ["repos/acme", "must start with /"],
  ])("%s is refused, naming the field", (input, why) => {
    const r = withPrefix(input);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.errors[0]!.field).toBe("bundles[0].connections[0].narrow.pathPrefix");
      expect(r.errors[0]!.message).toContain(why);
    }
  });

  it("property: a stored prefix is a fixed point of request-path normalisation, so the requests it names fit it", () => {
    const piece = fc.constantFrom("a", "acme", "%61", "%41", "-", "~", "%7E", ".", "..", "", ";", "[", "%2e", "%2F", "%C3%A9", "@", ":");
    const prefix = fc
      .array(
        fc.array(piece, { maxLength: 3 }).map((p) => p.join("")),
        { minLength: 1, maxLength: 4 },
      )
      .map((s) => "/" + s.join("/"));
    fc.assert(
      fc.property(prefix, (raw) => {
        const r = withPrefix(raw);
        if (!r.ok) return;
        const p = r.document.bundles[0]!.connections[0]!.narrow?.pathPrefix ?? "/";
        expect(normalisePath(p)).toEqual({ path: p, encodedSeparator: false, ambiguous: null });
        // A request spelled as the owner typed it fits the stored prefix.
        const asTyped = normalisePath(raw)!;
        expect(pathHasPrefix(asTyped.path, p)).toBe(true);
        expect(pathHasPrefix(normalisePath(`${p}/x`)!.path, p)).toBe(true);
      }),
      { numRuns: 3000 },
    );
  });
});
