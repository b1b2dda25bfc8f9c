import { describe, expect, it } from "vitest";
import { compilePolicy, validatePolicyDocument, type EgressRequest, type PolicyDocument } from "./index";

function doc(input: unknown): PolicyDocument {
  const r = validatePolicyDocument(input);
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return r.document;
}

const base = doc({
  version: 1,
  orgDeny: ["*.pastebin.com", "evil.example.com"],
  bundles: [
    {
      name: "baseline",
      scope: { type: "organization" },
      domains: ["registry.npmjs.org", "*.pypi.org", "10.1.2.3", "files.example.com:8443"],
      connections: [
        {
          name: "github",
          serviceAccount: "claude-agent@acme.example",
          inject: { type: "bearer" },
          allowedWebsites: ["api.github.com", "uploads.github.com", "*.githubusercontent.com"],
          narrow: { host: "api.github.com", pathPrefix: "/repos/acme", methods: "read_only" },
        },
        {
          name: "jira",
          serviceAccount: "bot@acme.example",
          inject: { type: "basic", username: "bot" },
          allowedWebsites: ["acme.atlassian.net"],
        },
        { name: "nocred", serviceAccount: "x@acme.example", inject: { type: "bearer" }, allowedWebsites: ["nocred.example.com"] },
      ],
    },
    {
      name: "ws-eng",
      scope: { type: "workspace", workspace: "T0ACME" },
      connections: [
        {
          name: "wiki",
          serviceAccount: "wiki@acme.example",
          inject: { type: "header", name: "X-Api-Key" },
          allowedWebsites: ["wiki.acme.example"],
        },
      ],
      domains: ["pastebin.com"],
    },
    {
      name: "platform-team",
      scope: { type: "channels", workspace: "T0ACME", channels: ["C0ENG"] },
      connections: [
        {
          name: "github",
          serviceAccount: "claude-platform@acme.example",
          inject: { type: "bearer" },
          allowedWebsites: ["api.github.com"],
          narrow: { pathPrefix: "/repos/acme/platform" },
        },
      ],
      domains: ["sub.pastebin.com"],
    },
  ],
});

const NOW = Date.UTC(2026, 10, 30);
const creds = new Set(["baseline/github", "baseline/jira", "platform-team/github", "ws-eng/wiki"]);
const policy = compilePolicy(base, { credentialsSet: creds, now: NOW });

function req(url: string, method = "GET", extra: Partial<EgressRequest> = {}): EgressRequest {
  const u = new URL(url);
  const scheme = u.protocol === "https:" ? "https" : "http";
  return {
    method,
    scheme,
    host: u.hostname.replace(/^\[|\]$/g, ""),
    port: Number(u.port || (scheme === "https" ? 443 : 80)),
    path: u.pathname,
    methodOverride: false,
    ...extra,
  };
}

const OTHER = ["T0OTHER", "C0X"] as const; // only organization bundles apply
const ENG = ["T0ACME", "C0ENG"] as const; // all three
const OPS = ["T0ACME", "C0OPS"] as const; // organization + workspace

describe("decide: the three outcomes (spec §2)", () => {
  const cases: [string, readonly [string, string], EgressRequest, string, string?][] = [
    [
      "credentialed: allowed website fitting the narrowing",
      OTHER,
      req("https://api.github.com/repos/acme/x"),
      "credentialed",
      "credential:baseline/github:api.github.com",
    ],
    ["credentialed at the prefix itself", OTHER, req("https://api.github.com/repos/acme"), "credentialed"],
    ["prefix on a segment boundary only", OTHER, req("https://api.github.com/repos/acme-evil"), "allowlisted"],
    ["dot segments cannot escape the prefix", OTHER, req("https://api.github.com/repos/acme/../other"), "allowlisted"],
    [
      "encoded dot segments cannot escape either",
      OTHER,
      req("https://api.github.com/repos/acme/%2e%2e/other", "GET", { path: "/repos/acme/%2e%2e/other" }),
      "allowlisted",
    ],
    [
      "encoded unreserved characters are decoded before matching",
      OTHER,
      req("https://api.github.com/repos/%61cme/x", "GET", { path: "/repos/%61cme/x" }),
      "credentialed",
    ],
    [
      "an encoded slash never fits a path narrowing",
      OTHER,
      req("https://api.github.com/repos/acme%2Fx", "GET", { path: "/repos/acme%2Fx" }),
      "allowlisted",
    ],
    [
      "an encoded backslash never fits",
      OTHER,
      req("https://api.github.com/repos/acme/%5C..", "GET", { path: "/repos/acme/%5C.." }),
      "allowlisted",
    ],
    ["a raw backslash never fits", OTHER, req("https://api.github.com/x", "GET", { path: "/repos/acme\\x" }), "allowlisted"],
    [
      "a write method misses a read-only narrowing but still goes out",
      OTHER,
      req("https://api.github.com/repos/acme/x", "POST"),
      "allowlisted",
    ],
    ["HEAD and OPTIONS are read-only", OTHER, req("https://api.github.com/repos/acme/x", "OPTIONS"), "credentialed"],
    [
      "a method-override header never fits read-only",
      OTHER,
      req("https://api.github.com/repos/acme/x", "GET", { methodOverride: true }),
      "allowlisted",
    ],
    ["narrowing host: other allowed websites go out without the key", OTHER, req("https://uploads.github.com/repos/acme/x"), "allowlisted"],
    ["wildcard website matches a subdomain at any depth", OTHER, req("https://a.b.githubusercontent.com/x"), "allowlisted"],
    ["wildcard never matches the apex", OTHER, req("https://githubusercontent.com/x"), "blocked"],
    ["plain HTTP to an allowed website goes out without the credential", OTHER, req("http://acme.atlassian.net/x"), "allowlisted"],
    [
      "HTTPS to an allowed website with no narrowing is credentialed",
      OTHER,
      req("https://acme.atlassian.net/x", "DELETE"),
      "credentialed",
      "credential:baseline/jira:acme.atlassian.net",
    ],
    ["no credential set: allowlisted", OTHER, req("https://nocred.example.com/"), "allowlisted"],
    ["a Domains entry is allowlisted", OTHER, req("https://registry.npmjs.org/react"), "allowlisted", "domain:baseline:registry.npmjs.org"],
    ["a Domains wildcard", OTHER, req("https://files.pypi.org/x"), "allowlisted"],
    ["a Domains entry with a port matches only that port", OTHER, req("https://files.example.com:8443/"), "allowlisted"],
    ["…and not the default port", OTHER, req("https://files.example.com/"), "blocked"],
    ["an allowed website on another port is blocked", OTHER, req("https://api.github.com:8443/repos/acme"), "blocked"],
    ["unlisted host is blocked", OTHER, req("https://example.org/"), "blocked", "default:block"],
    ["an IP literal not listed is blocked", OTHER, req("https://140.82.112.6/"), "blocked"],
    ["an IP literal listed as such is allowed", OTHER, req("https://10.1.2.3/"), "allowlisted"],
    ["a wildcard org deny does not cover the apex", ENG, req("https://pastebin.com/raw"), "allowlisted"],
    ["org deny wildcard beats a channel's Domains entry", ENG, req("https://sub.pastebin.com/raw"), "blocked", "orgDeny:*.pastebin.com"],
    ["org deny exact", OTHER, req("https://evil.example.com/"), "blocked"],
    ["org deny without a port covers every port", OTHER, req("https://evil.example.com:8443/"), "blocked"],
    [
      "workspace bundle applies in its workspace",
      OPS,
      req("https://wiki.acme.example/page"),
      "credentialed",
      "credential:ws-eng/wiki:wiki.acme.example",
    ],
    ["workspace bundle does not apply elsewhere", OTHER, req("https://wiki.acme.example/page"), "blocked"],
    [
      "channel bundle overrides the baseline's github",
      ENG,
      req("https://api.github.com/repos/acme/platform/x", "POST"),
      "credentialed",
      "credential:platform-team/github:api.github.com",
    ],
    ["the override replaces the baseline entirely in that channel", ENG, req("https://api.github.com/repos/acme/x"), "allowlisted"],
    ["the override drops the baseline's other websites in that channel", ENG, req("https://uploads.github.com/"), "blocked"],
    ["other channels keep the baseline", OPS, req("https://api.github.com/repos/acme/platform/x", "POST"), "allowlisted"],
  ];
  for (const [name, [ws, ch], r, outcome, rule] of cases) {
    it(name, () => {
      const d = policy.decide(ws, ch, r);
      expect(d.outcome).toBe(outcome);
      if (rule) expect(d.rule).toBe(rule);
      expect(d.reason.length).toBeGreaterThan(10);
      if (outcome === "credentialed") expect(d.connection).toBeDefined();
      else expect(d.connection).toBeUndefined();
    });
  }

  it("is exact host over wildcard, then the longer path prefix, then the narrower scope", () => {
    const p = compilePolicy(
      doc({
        version: 1,
        bundles: [
          {
            name: "org",
            scope: { type: "organization" },
            connections: [
              { name: "wild", serviceAccount: "a", inject: { type: "bearer" }, allowedWebsites: ["*.example.com"] },
              { name: "exact", serviceAccount: "b", inject: { type: "bearer" }, allowedWebsites: ["api.example.com"] },
              {
                name: "short",
                serviceAccount: "c",
                inject: { type: "bearer" },
                allowedWebsites: ["git.example.com"],
                narrow: { pathPrefix: "/a" },
              },
              {
                name: "long",
                serviceAccount: "d",
                inject: { type: "bearer" },
                allowedWebsites: ["git.example.com"],
                narrow: { pathPrefix: "/a/b" },
              },
              { name: "orgwide", serviceAccount: "e", inject: { type: "bearer" }, allowedWebsites: ["svc.example.com"] },
            ],
          },
          {
            name: "chan",
            scope: { type: "channels", workspace: "W", channels: ["C"] },
            connections: [{ name: "chanwide", serviceAccount: "f", inject: { type: "bearer" }, allowedWebsites: ["svc.example.com"] }],
          },
        ],
      }),
      { credentialsSet: new Set(["org/wild", "org/exact", "org/short", "org/long", "org/orgwide", "chan/chanwide"]), now: NOW },
    );
    expect(p.decide("W", "C", req("https://api.example.com/")).connection?.name).toBe("exact");
    expect(p.decide("W", "C", req("https://other.example.com/")).connection?.name).toBe("wild");
    expect(p.decide("W", "C", req("https://git.example.com/a/b/c")).connection?.name).toBe("long");
    expect(p.decide("W", "C", req("https://git.example.com/a/x")).connection?.name).toBe("short");
    expect(p.decide("W", "C", req("https://svc.example.com/")).connection?.name).toBe("chanwide");
    expect(p.decide("W", "D", req("https://svc.example.com/")).connection?.name).toBe("orgwide");
    const ex = p.explain("W", "C", req("https://git.example.com/a/b/c"));
    expect(ex.decision.connection?.name).toBe("long");
    const short = ex.considered.find((c) => c.rule === "credential:org/short:git.example.com")!;
    expect(short.applies).toBe(true);
    expect(short.why).toContain("more specific rule won");
  });
});

describe("explain", () => {
  it("lists every rule of the channel with why it did or did not apply", () => {
    const ex = policy.explain("T0ACME", "C0ENG", req("https://api.github.com/repos/acme/x"));
    expect(ex.decision.outcome).toBe("allowlisted");
    const rules = ex.considered.map((c) => c.rule);
    expect(rules).toContain("orgDeny:*.pastebin.com");
    expect(rules).toContain("credential:platform-team/github:api.github.com");
    expect(rules).toContain("credential:baseline/jira:acme.atlassian.net");
    expect(rules).toContain("domain:baseline:registry.npmjs.org");
    const gh = ex.considered.find((c) => c.rule === "credential:platform-team/github:api.github.com")!;
    expect(gh.applies).toBe(false);
    expect(gh.why).toContain("/repos/acme/platform");
    expect(gh.scope).toBe("channel");
  });
});

describe("validation", () => {
  it("names the field at fault", () => {
    const r = validatePolicyDocument({
      version: 1,
      bundles: [{ name: "b", scope: { type: "organization" }, domains: ["https://x.com/path"] }],
    });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errors[0]!.field).toBe("bundles[0].domains[0]");
  });
  it("refuses two same-named connections that could apply at the same scope", () => {
    const r = validatePolicyDocument({
      version: 1,
      bundles: [
        {
          name: "a",
          scope: { type: "organization" },
          connections: [{ name: "gh", serviceAccount: "x", inject: { type: "bearer" }, allowedWebsites: ["a.com"] }],
        },
        {
          name: "b",
          scope: { type: "organization" },
          connections: [{ name: "gh", serviceAccount: "y", inject: { type: "bearer" }, allowedWebsites: ["b.com"] }],
        },
      ],
    });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errors[0]!.field).toBe("bundles[1].connections[0].name");
  });
  it("a custom-header credential may not travel in a framing, hop-by-hop, proxy or cookie header", () => {
    const withHeader = (name: string) =>
      validatePolicyDocument({
        version: 1,
        bundles: [
          {
            name: "a",
            scope: { type: "organization" },
            connections: [{ name: "k", serviceAccount: "x", inject: { type: "header", name }, allowedWebsites: ["a.com"] }],
          },
        ],
      });
    for (const name of [
      "Host",
      "content-length",
      "Transfer-Encoding",
      "connection",
      "Proxy-Connection",
      "keep-alive",
      "TE",
      "trailer",
      "Upgrade",
      "expect",
      "Proxy-Authorization",
      "cookie",
      "X Api Key",
      "x-key:",
    ]) {
      const r = withHeader(name);
      expect(r.ok, name).toBe(false);
      if (!r.ok) expect(r.errors[0]!.field).toBe("bundles[0].connections[0].inject.name");
    }
    for (const name of ["X-Api-Key", "PRIVATE-TOKEN", "x-auth_token"]) expect(withHeader(name).ok, name).toBe(true);
  });
  it("refuses a narrowing host that is not an Allowed website, unknown keys and a wrong version", () => {
    for (const bad of [
      {
        version: 1,
        bundles: [
          {
            name: "a",
            scope: { type: "organization" },
            connections: [
              { name: "gh", serviceAccount: "x", inject: { type: "bearer" }, allowedWebsites: ["a.com"], narrow: { host: "b.com" } },
            ],
          },
        ],
      },
      { version: 1, surprise: true },
      { version: 2 },
      { version: 1, memberAccess: { mode: "roles", roles: [] } },
      { version: 1, orgDeny: ["*"] },
      { version: 1, orgDeny: ["*.com"] },
    ]) {
      expect(validatePolicyDocument(bad).ok, JSON.stringify(bad)).toBe(false);
    }
  });
});

describe("answers to redact", () => {
  const shared = doc({
    version: 1,
    bundles: [
      {
        name: "b",
        scope: { type: "organization" },
        domains: ["api.example.com", "cdn.example.com"],
        connections: [
          {
            name: "one",
            serviceAccount: "a",
            inject: { type: "bearer" },
            allowedWebsites: ["api.example.com"],
            narrow: { pathPrefix: "/repos/acme" },
          },
          { name: "two", serviceAccount: "b", inject: { type: "header", name: "X-Key" }, allowedWebsites: ["*.example.com"] },
        ],
      },
    ],
  });
  const p = compilePolicy(shared, { credentialsSet: new Set(["b/one", "b/two"]), now: NOW });
  const ids = (d: ReturnType<typeof p.decide>) => (d.alsoRedact ?? []).map((c) => c.identity).sort();
  it("name every connection one of whose Allowed websites the host is, credentialed or not", () => {
    expect(ids(p.decide("T", "C", req("https://api.example.com/repos/acme/x")))).toEqual(["b/one", "b/two"]);
    // Outside the narrowing, over plain HTTP: no credential goes, the answer is scanned all the same.
    const plain = p.decide("T", "C", req("http://api.example.com/status"));
    expect(plain.outcome).toBe("allowlisted");
    expect(ids(plain)).toEqual(["b/one", "b/two"]);
    expect(ids(p.decide("T", "C", req("https://cdn.example.com/x")))).toEqual(["b/two"]);
    expect(p.decide("T", "C", req("https://example.org/")).alsoRedact).toBeUndefined();
  });
});
