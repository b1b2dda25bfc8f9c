import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  compilePolicy,
  denyEntryCovering,
  newlyDeniedEntries,
  parseHostPattern,
  replayRequests,
  validatePolicyDocument,
  type PolicyDocument,
  type ReplayRequest,
} from "./index";

function doc(input: unknown): PolicyDocument {
  const r = validatePolicyDocument(input);
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return r.document;
}

const current = doc({
  version: 1,
  orgDeny: ["*.pastebin.com"],
  bundles: [
    {
      name: "baseline",
      scope: { type: "organization" },
      domains: ["registry.npmjs.org", "*.pypi.org"],
      connections: [
        {
          name: "github",
          serviceAccount: "bot@acme.example",
          inject: { type: "bearer" },
          allowedWebsites: ["api.github.com"],
          narrow: { pathPrefix: "/repos/acme" },
        },
      ],
    },
    { name: "eng", scope: { type: "channels", workspace: "T0ACME", channels: ["C0ENG"] }, domains: ["docs.example.com"], connections: [] },
  ],
});
const creds = new Set(["baseline/github"]);
type Narrow = PolicyDocument["bundles"][number]["connections"][number]["narrow"];

let seq = 0;
function r(url: string, extra: Partial<ReplayRequest> = {}): ReplayRequest {
  const u = new URL(url);
  const scheme = u.protocol === "https:" ? "https" : "http";
  seq++;
  return {
    workspace: "T0ACME",
    channel: "C0ENG",
    method: "GET",
    scheme,
    host: u.hostname,
    port: Number(u.port || (scheme === "https" ? 443 : 80)),
    path: u.pathname,
    count: 1,
    lastSeq: seq,
    lastTs: 1000 + seq,
    ...extra,
  };
}

const traffic = [
  r("https://api.github.com/repos/acme/x", { count: 10 }),
  r("https://api.github.com/users/someone", { count: 3 }),
  r("https://registry.npmjs.org/left-pad", { count: 7 }),
  r("https://files.pypi.org/x", { count: 2 }),
  r("https://docs.example.com/", { count: 4 }),
  r("https://docs.example.com/", { channel: "C0OPS", count: 5 }),
  r("https://unknown.example.net/", { count: 1 }),
  r("https://a.pastebin.com/raw", { count: 1 }),
  r("https://registry.npmjs.org:443", { method: "CONNECT", path: "", count: 6 }),
];

function replay(draft: PolicyDocument, draftCreds = creds, examples = 5) {
  return replayRequests(
    compilePolicy(current, { credentialsSet: creds, now: 0 }),
    compilePolicy(draft, { credentialsSet: draftCreds, now: 0 }),
    traffic,
    { examples },
  );
}

describe("replayRequests", () => {
  it("the unchanged document yields no transitions", () => {
    const res = replay(current);
    expect(res).toMatchObject({ requests: traffic.length, events: 39, changedRequests: 0, changedEvents: 0, transitions: [] });
  });

  it("removing a Domains entry turns its requests, CONNECTs included, from allowlisted to blocked", () => {
    const draft = structuredClone(current);
    draft.bundles[0]!.domains = ["*.pypi.org"];
    const res = replay(draft);
    expect(res.transitions).toHaveLength(1);
    const t = res.transitions[0]!;
    expect(t).toMatchObject({ from: "allowlisted", to: "blocked", requests: 2, events: 13 });
    // Most frequent first; the example says what decides it now.
    expect(t.examples.map((e) => [e.method, e.count])).toEqual([
      ["GET", 7],
      ["CONNECT", 6],
    ]);
    expect(t.examples[0]!.before).toMatchObject({ outcome: "allowlisted", rule: "domain:baseline:registry.npmjs.org" });
    expect(t.examples[0]!.after).toMatchObject({ outcome: "blocked", rule: "default:block" });
  });

  it("deleting a connection: credentialed → blocked, its near misses allowlisted → blocked", () => {
    const draft = structuredClone(current);
    draft.bundles[0]!.connections = [];
    const res = replay(draft, new Set());
    expect(res.transitions.map((t) => [t.from, t.to, t.requests, t.events])).toEqual([
      ["credentialed", "blocked", 1, 10],
      ["allowlisted", "blocked", 1, 3],
    ]);
    expect(res.changedEvents).toBe(13);
  });

  it("a narrowing tightened: credentialed → allowlisted", () => {
    const draft = structuredClone(current);
    draft.bundles[0]!.connections[0]!.narrow = { pathPrefix: "/repos/acme", methods: "read_only" } as Narrow;
    expect(replay(draft).transitions).toEqual([]);
    draft.bundles[0]!.connections[0]!.narrow = { pathPrefix: "/repos/other" } as Narrow;
    expect(replay(draft).transitions.map((t) => [t.from, t.to, t.events])).toEqual([["credentialed", "allowlisted", 10]]);
  });

  it("a bundle's scope widened: blocked → allowlisted in the newly covered channel only", () => {
    const draft = structuredClone(current);
    draft.bundles[1]!.scope = { type: "workspace", workspace: "T0ACME" };
    const res = replay(draft);
    expect(res.transitions).toHaveLength(1);
    expect(res.transitions[0]).toMatchObject({ from: "blocked", to: "allowlisted", requests: 1, events: 5 });
    expect(res.transitions[0]!.examples[0]).toMatchObject({ channel: "C0OPS", host: "docs.example.com" });
  });

  it("a Domains entry the org-wide deny list overrides changes nothing, and is named", () => {
    const draft = structuredClone(current);
    draft.bundles[0]!.domains.push("a.pastebin.com");
    expect(replay(draft).transitions).toEqual([]);
    expect(newlyDeniedEntries(current, draft)).toEqual([{ bundle: "baseline", pattern: "a.pastebin.com", deniedBy: "*.pastebin.com" }]);
    draft.bundles[0]!.connections[0]!.allowedWebsites.push("*.x.pastebin.com");
    expect(newlyDeniedEntries(current, draft)).toContainEqual({
      bundle: "baseline",
      connection: "github",
      pattern: "*.x.pastebin.com",
      deniedBy: "*.pastebin.com",
    });
    expect(newlyDeniedEntries(current, current)).toEqual([]);
  });

  it("another credential attached counts as a change even with the same outcome", () => {
    const draft = structuredClone(current);
    draft.bundles[1]!.connections = [
      { name: "github", serviceAccount: "eng@acme.example", inject: { type: "bearer" }, allowedWebsites: ["api.github.com"] },
    ];
    const res = replay(draft, new Set(["baseline/github", "eng/github"]));
    expect(res.transitions.map((t) => [t.from, t.to, t.events])).toEqual([
      ["credentialed", "credentialed", 10],
      ["allowlisted", "credentialed", 3],
    ]);
    expect(res.transitions[0]!.examples[0]!.after.connection).toBe("eng/github");
  });

  it("keeps the most frequent examples, at most the limit", () => {
    const draft = structuredClone(current);
    draft.orgDeny = ["registry.npmjs.org", "*.pypi.org", "*.github.com", "docs.example.com", "unknown.example.net"];
    const res = replay(draft, creds, 2);
    for (const t of res.transitions) {
      expect(t.examples.length).toBeLessThanOrEqual(2);
      const counts = t.examples.map((e) => e.count);
      expect(counts).toEqual([...counts].sort((a, b) => b - a));
    }
    const toBlocked = res.transitions.find((t) => t.from === "allowlisted")!;
    expect(toBlocked.examples.map((e) => e.count)).toEqual([7, 6]);
  });
});

// Property: whatever the policy and the traffic, replaying against the unchanged document
// changes nothing, and the counts add up.
const label = fc.constantFrom("a", "b", "api", "x-1", "pastebin", "example", "com", "net");
const hostArb = fc.array(label, { minLength: 2, maxLength: 4 }).map((l) => l.join("."));
const patternArb = fc
  .tuple(fc.boolean(), hostArb, fc.constantFrom(null, 443, 8443, 80))
  .map(([wild, h, port]) => `${wild ? "*." : ""}${h}${port ? `:${port}` : ""}`);
const pathArb = fc.constantFrom("/", "/repos/acme", "/repos/acme/x", "/repos/acme-evil", "/a/%2e%2e/b", "/a%2fb", "");
const docArb = fc
  .record({
    orgDeny: fc.array(patternArb, { maxLength: 3 }),
    domains: fc.array(patternArb, { maxLength: 4 }),
    websites: fc.array(patternArb, { minLength: 1, maxLength: 3 }),
    narrow: fc.option(fc.record({ pathPrefix: fc.constantFrom("/repos/acme", "/a"), methods: fc.constantFrom("read_only" as const) }), {
      nil: undefined,
    }),
    scopeChannels: fc.boolean(),
  })
  .map((d) =>
    validatePolicyDocument({
      version: 1,
      orgDeny: [...new Set(d.orgDeny)],
      bundles: [
        {
          name: "b1",
          scope: d.scopeChannels ? { type: "channels", workspace: "T1", channels: ["C1"] } : { type: "organization" },
          domains: [...new Set(d.domains)],
          connections: [
            {
              name: "c",
              serviceAccount: "s@acme.example",
              inject: { type: "bearer" },
              allowedWebsites: [...new Set(d.websites)],
              ...(d.narrow ? { narrow: d.narrow } : {}),
            },
          ],
        },
      ],
    }),
  )
  .filter((r): r is { ok: true; document: PolicyDocument } => r.ok)
  .map((r) => r.document);
const reqArb = fc.record({
  workspace: fc.constantFrom("T1", "T2"),
  channel: fc.constantFrom("C1", "C2"),
  method: fc.constantFrom("GET", "POST", "CONNECT", "DELETE"),
  scheme: fc.constantFrom("https" as const, "http" as const),
  host: hostArb,
  port: fc.constantFrom(443, 80, 8443),
  path: pathArb,
  count: fc.integer({ min: 1, max: 1000 }),
  lastSeq: fc.nat(),
  lastTs: fc.nat(),
});

describe("replayRequests properties", () => {
  it("replaying against the unchanged document yields no transitions", () => {
    fc.assert(
      fc.property(docArb, fc.boolean(), fc.array(reqArb, { maxLength: 40 }), (d, withCred, reqs) => {
        const set = new Set(withCred ? ["b1/c"] : []);
        const res = replayRequests(
          compilePolicy(d, { credentialsSet: set, now: 0 }),
          compilePolicy(structuredClone(d), { credentialsSet: set, now: 0 }),
          reqs,
        );
        expect(res.transitions).toEqual([]);
        expect(res.requests).toBe(reqs.length);
        expect(res.events).toBe(reqs.reduce((s, r) => s + r.count, 0));
      }),
    );
  });

  it("transition counts add up to the changed totals, and every example is a change", () => {
    fc.assert(
      fc.property(docArb, docArb, fc.array(reqArb, { maxLength: 40 }), (a, b, reqs) => {
        const set = new Set(["b1/c"]);
        const res = replayRequests(
          compilePolicy(a, { credentialsSet: set, now: 0 }),
          compilePolicy(b, { credentialsSet: set, now: 0 }),
          reqs,
          { examples: 3 },
        );
        expect(res.transitions.reduce((s, t) => s + t.requests, 0)).toBe(res.changedRequests);
        expect(res.transitions.reduce((s, t) => s + t.events, 0)).toBe(res.changedEvents);
        for (const t of res.transitions) {
          expect(t.examples.length).toBe(Math.min(3, t.requests));
          for (const e of t.examples) expect([e.before.outcome, e.after.outcome]).toEqual([t.from, t.to]);
        }
      }),
    );
  });

  it("an entry said to be overridden by the deny list is blocked by the engine on every host it names", () => {
    fc.assert(
      fc.property(
        fc.array(patternArb, { minLength: 1, maxLength: 3 }),
        patternArb,
        hostArb,
        fc.constantFrom("https" as const, "http" as const),
        (deny, allow, sub, scheme) => {
          const deniedBy = denyEntryCovering(deny, allow);
          if (!deniedBy) return;
          const p = parseHostPattern(allow);
          const host = p.kind === "exact" ? p.host : `${sub}.${p.host}`;
          const port = p.port ?? (scheme === "https" ? 443 : 80);
          const d = doc({
            version: 1,
            orgDeny: [...new Set(deny)],
            bundles: [{ name: "b", scope: { type: "organization" }, domains: [allow], connections: [] }],
          });
          const decision = compilePolicy(d, { credentialsSet: new Set(), now: 0 }).decide("T", "C", {
            method: "GET",
            scheme,
            host,
            port,
            path: "/",
            methodOverride: false,
          });
          expect(decision.code).toBe("org_denied");
        },
      ),
    );
  });
});
