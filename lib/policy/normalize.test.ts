import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { canonicalHost, canonicalHostWhatwg, normalisePath, pathHasPrefix, removeDotSegments } from "./normalize";
import { parseHostPattern, patternMatches } from "./pattern";
import { parseAbsoluteTarget, parseConnectTarget, isTargetError } from "./target";

describe("canonicalHost", () => {
  it.each([
    ["API.GitHub.com", "api.github.com"],
    ["api.github.com.", "api.github.com"],
    ["bücher.example", "xn--bcher-kva.example"],
    ["0x7f.1", "127.0.0.1"],
    ["[::FFFF:127.0.0.1]", "::ffff:7f00:1"],
    ["2130706433", "127.0.0.1"],
  ])("%s → %s", (input, out) => expect(canonicalHost(input)).toBe(out));
  it.each(["", "a..b", "a b", "user@host", "host/path", "a.com..", "%41.com", "[::1"])("rejects %j", (input) =>
    expect(canonicalHost(input)).toBeNull(),
  );
  it("a name is at most 253 octets in all and 63 a label", () => {
    const name = (total: number) =>
      Array.from({ length: Math.ceil(total / 64) }, (_, i) => "a".repeat(Math.min(63, total - i * 64))).join(".");
    expect(name(253)).toHaveLength(253);
    expect(canonicalHost(name(253))).toBe(name(253));
    expect(canonicalHost(name(253) + ".")).toBe(name(253));
    expect(canonicalHost(name(254))).toBeNull();
    expect(canonicalHost("a".repeat(64) + ".com")).toBeNull();
    expect(parseAbsoluteTarget(`http://${name(254)}/`)).toMatchObject({ error: "bad_target" });
  });
  it.each([
    "a.1",
    "1.a",
    "a.0x7f",
    "0x7f",
    "x.09",
    "ex-ample.COM.",
    "-a.com",
    "a-.com",
    "a--b.com",
    "xn--bcher-kva.example",
    "xn--a.com",
    "a_b.com",
  ])("plain-name fast path agrees with the WHATWG parse on %j", (input) => expect(canonicalHost(input)).toBe(canonicalHostWhatwg(input)));
  it("property: the plain-name fast path agrees with the WHATWG parse", () => {
    const piece = fc.constantFrom(
      "a",
      "Z",
      "x",
      "n",
      "f",
      "0",
      "1",
      "9",
      "-",
      "--",
      ".",
      "..",
      "xn--",
      "0x",
      "7f",
      "_",
      "ü",
      "a".repeat(63),
      "B".repeat(64),
    );
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 14 }), (pieces) => {
        const input = pieces.join("");
        expect(canonicalHost(input)).toBe(canonicalHostWhatwg(input));
      }),
      { numRuns: 20000 },
    );
  });
});

describe("CONNECT targets", () => {
  it("need host:port (RFC 9110 §9.3.6)", () => {
    expect(parseConnectTarget("example.net:443")).toEqual({ host: "example.net", port: 443 });
    expect(parseConnectTarget("[::1]:8443")).toEqual({ host: "::1", port: 8443 });
    for (const bad of ["example.net", "[::1]", "example.net:", "example.net:https", "user@example.net:443"])
      expect("error" in parseConnectTarget(bad), bad).toBe(true);
  });
});

describe("paths", () => {
  it("resolves dot segments and decodes unreserved characters only", () => {
    expect(normalisePath("/a/./b/../c")!.path).toBe("/a/c");
    expect(normalisePath("/%61%2e%2E/x")!.path).toBe("/a../x");
    expect(normalisePath("/a/%2e%2e/b")!.path).toBe("/b");
    expect(normalisePath("/a%2fb")).toEqual({ path: "/a%2Fb", encodedSeparator: true, ambiguous: "an encoded slash or backslash" });
    expect(normalisePath("/a%5Cb")!.encodedSeparator).toBe(true);
    expect(normalisePath("/a%zz")).toBeNull();
    expect(removeDotSegments("/../../x")).toBe("/x");
  });

  const segment = fc.stringMatching(/^[a-z.%2eE5cCfF\\-]{0,6}$/);
  const rawPath = fc.array(segment, { maxLength: 8 }).map((segs) => "/" + segs.join("/"));

  it("property: no path that normalises outside a prefix is ever judged inside it", () => {
    fc.assert(
      fc.property(rawPath, fc.constantFrom("/repos/acme", "/a", "/a/b"), (raw, prefix) => {
        const n = normalisePath(raw);
        if (!n || n.encodedSeparator) return;
        if (pathHasPrefix(n.path, prefix)) {
          // Inside means: equal, or the next character after the prefix is a separator.
          expect(n.path === prefix || n.path.startsWith(prefix + "/")).toBe(true);
          // And no ".." segment survives normalisation to climb back out upstream.
          expect(n.path.split("/")).not.toContain("..");
          expect(n.path.split("/")).not.toContain(".");
        }
      }),
      { numRuns: 5000 },
    );
  });

  it("property: normalisation is idempotent and agrees with the WHATWG URL parser's dot-segment removal", () => {
    fc.assert(
      fc.property(rawPath, (raw) => {
        const n = normalisePath(raw);
        if (!n || n.encodedSeparator || raw.includes("\\")) return;
        expect(normalisePath(n.path)!.path).toBe(n.path);
        const whatwg = new URL("http://h" + raw).pathname;
        // WHATWG keeps percent-encodings but resolves %2e segments the same way.
        expect(normalisePath(whatwg)!.path).toBe(n.path);
      }),
      { numRuns: 3000 },
    );
  });
});

describe("paths that servers may read differently never fit a narrowing", () => {
  it.each([
    ["/repos/acme//..//..//admin", "an empty segment (//)"],
    ["/repos/acme//../x", "an empty segment (//)"],
    ["//repos/acme/x", "an empty segment (//)"],
    ["/repos/acme/..;/admin", "a ';' parameter"],
    ["/repos/acme/%2e%2e;/admin", "a ';' parameter"],
    ["/repos/acme/x;jsessionid=1", "a ';' parameter"],
    ["/repos/acme/x%3bjsessionid=1", "a ';' parameter"],
    ["/repos/acme/../x", "a dot segment (. or .. in some spelling)"],
    ["/repos/acme/./x", "a dot segment (. or .. in some spelling)"],
    ["/repos/acme/%2e%2E/x", "a dot segment (. or .. in some spelling)"],
    ["/repos/acme/.%2e/x", "a dot segment (. or .. in some spelling)"],
    ["/repos/acme/%252e%252e/x", "a dot segment (. or .. in some spelling)"],
    ["/repos/acme/..%20/x", "a dot segment (. or .. in some spelling)"],
    ["/repos/acme/...", "a dot segment (. or .. in some spelling)"],
    ["/repos/acme/%ef%bc%8e%ef%bc%8e/x", "a dot segment (. or .. in some spelling)"],
    ["/repos/acme/%c0%ae%c0%ae/x", "percent-encoding that is not UTF-8"],
    ["/repos/acme/%252f/x", "an encoded slash or backslash"],
    ["/repos/acme/..%3f/x", "an encoded '?' or '#'"],
    ["/repos/acme/..%00/x", "a control character"],
  ])("%s: %s", (raw, why) => expect(normalisePath(raw)!.ambiguous).toBe(why));

  it.each([
    "/repos/acme",
    "/repos/acme/",
    "/repos/acme/x.y",
    "/repos/acme/.well-known",
    "/repos/acme/a..b",
    "/repos/%61cme/x",
    "/repos/acme/caf%C3%A9",
    "/repos/acme/100%25",
  ])("%s is plain", (raw) => {
    expect(normalisePath(raw)!.ambiguous).toBeNull();
  });

  // How common servers read a path: each model is a reading we have seen in the wild.
  const decodeOnce = (p: string) => p.replace(/%([0-9A-Fa-f]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16)));
  const servers: Record<string, (raw: string) => string> = {
    rfc3986: (raw) => normalisePath(raw)!.path,
    nginx: (raw) => removeDotSegments(decodeOnce(raw).replace(/\/+/g, "/")),
    tomcat: (raw) =>
      removeDotSegments(
        decodeOnce(
          raw
            .split("/")
            .map((seg) => seg.split(";")[0])
            .join("/"),
        ),
      ),
    "decode twice": (raw) => removeDotSegments(decodeOnce(decodeOnce(raw)).replace(/\/+/g, "/")),
    "params after decoding": (raw) =>
      removeDotSegments(
        decodeOnce(raw)
          .split("/")
          .map((seg) => seg.split(";")[0])
          .join("/")
          .replace(/\/+/g, "/"),
      ),
  };
  const piece = fc.constantFrom(
    "",
    "a",
    "acme",
    "repos",
    "x",
    ".",
    "..",
    "%2e",
    "%2E",
    "%252e",
    ";",
    "%3b",
    "..;",
    "%2f",
    "%5c",
    "%c0%ae",
    "%ef%bc%8e",
    "%20",
    "%3f",
  );
  const segment = fc.array(piece, { maxLength: 3 }).map((p) => p.join(""));
  const rawPath = fc.array(segment, { maxLength: 7 }).map((segs) => "/" + segs.join("/"));

  it("property: a path judged inside a prefix is inside it for every server model, and sending the normalised path changes nothing", () => {
    fc.assert(
      fc.property(
        fc.oneof(
          rawPath,
          rawPath.map((p) => "/repos/acme" + p),
        ),
        fc.constantFrom("/repos/acme", "/a", "/repos"),
        (raw, prefix) => {
          const n = normalisePath(raw);
          if (!n || n.ambiguous !== null || !pathHasPrefix(n.path, prefix)) return;
          for (const [name, read] of Object.entries(servers)) {
            expect(pathHasPrefix(read(raw), prefix), `${name} reads ${raw}`).toBe(true);
            expect(pathHasPrefix(read(n.path), prefix), `${name} reads the normalised ${n.path}`).toBe(true);
          }
          // What goes upstream is decided on again the same way.
          expect(normalisePath(n.path)).toEqual({ path: n.path, encodedSeparator: false, ambiguous: null });
        },
      ),
      { numRuns: 20000 },
    );
  });
});

describe("host patterns", () => {
  it("matches exact hosts exactly and wildcards at any depth, never the apex", () => {
    const w = parseHostPattern("*.githubusercontent.com");
    expect(patternMatches(w, "raw.githubusercontent.com", 443, "https")).toBe(true);
    expect(patternMatches(w, "a.b.githubusercontent.com", 443, "https")).toBe(true);
    expect(patternMatches(w, "githubusercontent.com", 443, "https")).toBe(false);
    expect(patternMatches(w, "evilgithubusercontent.com", 443, "https")).toBe(false);
    expect(patternMatches(parseHostPattern("api.github.com"), "api.github.com", 80, "http")).toBe(true);
    expect(patternMatches(parseHostPattern("api.github.com:8443"), "api.github.com", 443, "https")).toBe(false);
  });

  const label = fc.stringMatching(/^[a-z]([a-z0-9-]{0,6}[a-z0-9])?$/);
  const host = fc.array(label, { minLength: 2, maxLength: 5 }).map((l) => l.join("."));

  it("property: a wildcard matches exactly the strict subdomains", () => {
    fc.assert(
      fc.property(host, host, (suffix, candidate) => {
        const p = parseHostPattern("*." + suffix);
        const expected = candidate.endsWith("." + suffix);
        expect(patternMatches(p, candidate, 443, "https")).toBe(expected);
        expect(patternMatches(p, suffix, 443, "https")).toBe(false);
      }),
    );
  });
});

describe("request-target parser against the WHATWG URL parser", () => {
  const chars = fc.constantFrom(..."abcXYZ019-._~%2F5c:@/?#[]\\ .".split(""));
  const authority = fc.oneof(
    fc.array(chars, { maxLength: 20 }).map((a) => a.join("")),
    fc.constantFrom(
      "api.github.com",
      "API.GITHUB.COM.",
      "example.com:8080",
      "[::1]:443",
      "127.0.0.1",
      "0x7f.1",
      "bücher.de",
      "a@b.com",
      "x.com:99999",
      "x.com:",
    ),
  );
  const path = fc.array(chars, { maxLength: 20 }).map((a) => a.join(""));

  it("property: whatever we accept, WHATWG parses to the same host, port and path", () => {
    fc.assert(
      fc.property(fc.constantFrom("http", "https", "HTTP"), authority, path, (scheme, auth, p) => {
        const raw = `${scheme}://${auth}${p.startsWith("/") || p === "" ? p : "/" + p}`;
        const ours = parseAbsoluteTarget(raw);
        if (isTargetError(ours)) return;
        let url: URL;
        try {
          url = new URL(raw);
        } catch {
          throw new Error(`we accepted ${JSON.stringify(raw)} but WHATWG rejects it`);
        }
        expect(url.username).toBe("");
        expect(url.password).toBe("");
        expect(ours.host).toBe(url.hostname.replace(/^\[|\]$/g, "").replace(/\.$/, ""));
        expect(ours.port).toBe(url.port ? Number(url.port) : ours.scheme === "https" ? 443 : 80);
        expect(normalisePath(ours.path)?.path).toBe(normalisePath(url.pathname)?.path);
      }),
      { numRuns: 5000 },
    );
  });

  it("refuses userinfo, bad ports and other schemes", () => {
    expect(parseAbsoluteTarget("https://user:pw@api.github.com/")).toMatchObject({ error: "userinfo_not_allowed" });
    expect(parseAbsoluteTarget("https://api.github.com:0/")).toMatchObject({ error: "bad_target" });
    expect(parseAbsoluteTarget("ftp://x.com/")).toMatchObject({ error: "unsupported_scheme" });
    // Found by the property above: an unbracketed IPv6 address read as host "::" and port 1.
    expect(parseAbsoluteTarget("http://:::1")).toMatchObject({ error: "bad_target" });
    expect(parseConnectTarget("::1:443")).toMatchObject({ error: "bad_target" });
    expect(parseAbsoluteTarget("https://a.com/x y")).toMatchObject({ error: "bad_target" });
  });
});
