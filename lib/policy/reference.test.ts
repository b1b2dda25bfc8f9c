// decide() against a slow reference matcher written straight from spec §2: random policies,
// random requests, the same outcome and the same winning rule.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  compilePolicy,
  credentialIdentity,
  effectivePolicy,
  normalisePath,
  parseHostPattern,
  pathHasPrefix,
  patternMatches,
  READ_ONLY_METHODS,
  validatePolicyDocument,
  type EgressRequest,
  type PolicyDocument,
} from "./index";

const HOSTS = ["a.com", "x.a.com", "y.x.a.com", "b.org", "api.b.org", "c.net"];
const PATTERNS = [...HOSTS, "*.a.com", "*.x.a.com", "*.b.org", "a.com:8443", "*.a.com:8443"];
const PATHS = ["/", "/r", "/r/acme", "/r/acme/x", "/r/acme-evil", "/r/acme/../y", "/r/acme%2Fx", "/r/%61cme/z"];
const METHODS = ["GET", "HEAD", "POST", "DELETE"];

const connection = (name: string) =>
  fc.record({
    name: fc.constant(name),
    serviceAccount: fc.constant("bot@acme.example"),
    inject: fc.constant({ type: "bearer" as const }),
    allowedWebsites: fc.uniqueArray(fc.constantFrom(...PATTERNS), { minLength: 1, maxLength: 3 }),
    narrow: fc.option(
      fc.record({
        host: fc.option(fc.constantFrom(...HOSTS), { nil: undefined }),
        pathPrefix: fc.option(fc.constantFrom("/r", "/r/acme"), { nil: undefined }),
        methods: fc.option(fc.constant("read_only" as const), { nil: undefined }),
      }),
      { nil: undefined },
    ),
  });

const scope = fc.constantFrom(
  { type: "organization" as const },
  { type: "workspace" as const, workspace: "W" },
  { type: "channels" as const, workspace: "W", channels: ["C"] },
);

const policyArb = fc
  .record({
    orgDeny: fc.uniqueArray(fc.constantFrom(...PATTERNS), { maxLength: 2 }),
    bundles: fc.array(
      fc.record({
        scope,
        domains: fc.uniqueArray(fc.constantFrom(...PATTERNS), { maxLength: 3 }),
        connections: fc
          .uniqueArray(fc.constantFrom("gh", "jira", "wiki"), { maxLength: 2 })
          .chain((names) => fc.tuple(...names.map(connection))),
      }),
      { maxLength: 4 },
    ),
    credentials: fc.uniqueArray(fc.constantFrom<string>("gh", "jira", "wiki"), { maxLength: 3 }),
  })
  .map(({ orgDeny, bundles, credentials }) => {
    // Narrowing hosts must be Allowed websites: keep the generated ones that are.
    const doc = {
      version: 1,
      orgDeny,
      bundles: bundles.map((b, i) => ({
        name: `b${i}`,
        scope: b.scope,
        domains: b.domains,
        connections: b.connections.map((c) => ({
          ...c,
          narrow: c.narrow && c.narrow.host && !c.allowedWebsites.includes(c.narrow.host) ? { ...c.narrow, host: undefined } : c.narrow,
        })),
      })),
    };
    return { doc, credentials };
  });

const requestArb = fc.record({
  method: fc.constantFrom(...METHODS),
  scheme: fc.constantFrom("http" as const, "https" as const),
  host: fc.constantFrom(...HOSTS, "1.2.3.4"),
  port: fc.constantFrom(443, 80, 8443),
  path: fc.constantFrom(...PATHS),
  methodOverride: fc.boolean(),
});

function reference(
  doc: PolicyDocument,
  creds: Set<string>,
  ws: string,
  ch: string,
  req: EgressRequest,
): { outcome: string; identity?: string } {
  // A deny pattern without a port covers every port.
  if (
    doc.orgDeny.some((p) => {
      const hp = parseHostPattern(p);
      return patternMatches(hp.port === null ? { ...hp, port: req.port } : hp, req.host, req.port, req.scheme);
    })
  )
    return { outcome: "blocked" };
  const eff = effectivePolicy(doc, ws, ch);
  type Cand = { identity: string; exact: boolean; suffix: number; prefix: number; rank: number; order: number };
  const fitting: Cand[] = [];
  let hostAllowed = false;
  let order = 0;
  for (const ec of eff.connections) {
    for (const w of ec.connection.allowedWebsites) {
      const p = parseHostPattern(w);
      const o = order++;
      if (!patternMatches(p, req.host, req.port, req.scheme)) continue;
      hostAllowed = true;
      const identity = credentialIdentity(ec.bundle, ec.connection.name);
      if (!creds.has(identity) || req.scheme !== "https") continue;
      const n = ec.connection.narrow;
      if (n?.host && n.host !== req.host) continue;
      const np = normalisePath(req.path);
      if (n?.pathPrefix && (!np || np.ambiguous !== null || !pathHasPrefix(np.path, n.pathPrefix))) continue;
      if (n?.methods === "read_only" && (req.methodOverride || !READ_ONLY_METHODS.has(req.method))) continue;
      fitting.push({
        identity,
        exact: p.kind === "exact",
        suffix: p.kind === "wildcard" ? p.host.length : 0,
        prefix: n?.pathPrefix?.length ?? 0,
        rank: ec.rank,
        order: o,
      });
    }
  }
  if (fitting.length) {
    fitting.sort(
      (a, b) => Number(b.exact) - Number(a.exact) || b.suffix - a.suffix || b.prefix - a.prefix || b.rank - a.rank || a.order - b.order,
    );
    return { outcome: "credentialed", identity: fitting[0]!.identity };
  }
  if (hostAllowed) return { outcome: "allowlisted" };
  if (eff.domains.some((d) => patternMatches(parseHostPattern(d.pattern), req.host, req.port, req.scheme)))
    return { outcome: "allowlisted" };
  return { outcome: "blocked" };
}

describe("decide agrees with the reference matcher", () => {
  it("on random policies and requests", () => {
    let checked = 0;
    fc.assert(
      fc.property(
        policyArb,
        fc.array(requestArb, { minLength: 1, maxLength: 10 }),
        fc.constantFrom(["W", "C"], ["W", "D"], ["V", "C"]),
        ({ doc: raw, credentials }, requests, [ws, ch]) => {
          const v = validatePolicyDocument(raw);
          if (!v.ok) return; // e.g. two same-scope bundles defining one connection name
          const creds = new Set(
            v.document.bundles.flatMap((b) =>
              b.connections.filter((c) => credentials.includes(c.name)).map((c) => credentialIdentity(b.name, c.name)),
            ),
          );
          const compiled = compilePolicy(v.document, { credentialsSet: creds, now: 0 });
          for (const req of requests) {
            const got = compiled.decide(ws!, ch!, req);
            const want = reference(v.document, creds, ws!, ch!, req);
            expect(got.outcome).toBe(want.outcome);
            expect(got.connection?.identity).toBe(want.identity);
            checked++;
          }
        },
      ),
      { numRuns: 2000 },
    );
    expect(checked).toBeGreaterThan(1000);
  });
});
