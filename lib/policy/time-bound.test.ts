import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { compilePolicy, expiredEntries, nextExpiry, validatePolicyDocument, type EgressRequest, type PolicyDocument } from "./index";

function doc(input: unknown): PolicyDocument {
  const r = validatePolicyDocument(input);
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return r.document;
}

const T = Date.UTC(2026, 11, 1, 9, 0, 0);
const iso = (ms: number) => new Date(ms).toISOString();
const get = (url: string, method = "GET"): EgressRequest => {
  const u = new URL(url);
  return {
    method,
    scheme: u.protocol === "https:" ? "https" : "http",
    host: u.hostname,
    port: Number(u.port || (u.protocol === "https:" ? 443 : 80)),
    path: u.pathname,
    methodOverride: false,
  };
};

const grants = doc({
  version: 1,
  orgDeny: ["*.pastebin.example"],
  bundles: [
    {
      name: "eng",
      scope: { type: "channels", workspace: "T0ACME", channels: ["C0ENG"] },
      domains: ["lasting.example", { pattern: "temp.example", expiresAt: iso(T) }],
      connections: [
        {
          name: "gh",
          serviceAccount: "a@acme.example",
          inject: { type: "bearer" },
          allowedWebsites: ["api.gh.example"],
          expiresAt: "2026-12-01T10:00:00+01:00",
        },
      ],
    },
  ],
});
const creds = new Set(["eng/gh"]);
const at = (now: number) => compilePolicy(grants, { credentialsSet: creds, now });

describe("time-bound grants expire at their instant (the boundary)", () => {
  it("stores expiresAt in UTC and refuses what is not RFC 3339", () => {
    expect(grants.bundles[0]!.connections[0]!.expiresAt).toBe(iso(T));
    for (const bad of ["2026-12-01", "tomorrow", "2026-12-01T09:00:00", "2026-13-01T09:00:00Z", "1700000000"]) {
      const r = validatePolicyDocument({
        version: 1,
        bundles: [{ name: "b", scope: { type: "organization" }, domains: [{ pattern: "a.example", expiresAt: bad }] }],
      });
      expect(r.ok, bad).toBe(false);
      if (!r.ok) expect(r.errors[0]!.field).toBe("bundles[0].domains[0].expiresAt");
    }
  });

  it("a Domains grant holds until the millisecond before, and is gone at expiresAt", () => {
    const before = at(T - 1).decide("T0ACME", "C0ENG", get("https://temp.example/"));
    expect(before).toMatchObject({ outcome: "allowlisted", rule: "domain:eng:temp.example", expiresAt: T });
    expect(at(T).decide("T0ACME", "C0ENG", get("https://temp.example/"))).toMatchObject({ outcome: "blocked", code: "host_not_allowed" });
    expect(at(T).decide("T0ACME", "C0ENG", get("https://lasting.example/")).expiresAt).toBeUndefined();
  });

  it("a connection grant stops carrying its credential at expiresAt", () => {
    expect(at(T - 1).decide("T0ACME", "C0ENG", get("https://api.gh.example/x"))).toMatchObject({ outcome: "credentialed", expiresAt: T });
    expect(at(T).decide("T0ACME", "C0ENG", get("https://api.gh.example/x")).outcome).toBe("blocked");
    expect(
      at(T)
        .explain("T0ACME", "C0ENG", get("https://api.gh.example/x"))
        .considered.some((c) => c.rule.includes("eng/gh")),
    ).toBe(false);
  });

  it("nextExpiry names the next instant after now, and expiredEntries what has passed", () => {
    expect(at(T - 5).nextExpiry).toBe(T);
    expect(at(T).nextExpiry).toBeNull();
    expect(nextExpiry(grants, T - 5)).toBe(T);
    const { expired, remaining } = expiredEntries(grants, T);
    expect(expired.map((e) => e.kind).sort()).toEqual(["connection", "domain"]);
    expect(remaining.bundles[0]!.domains).toEqual(["lasting.example"]);
    expect(grants.bundles[0]!.domains).toHaveLength(2); // the input is untouched
  });

  it("a lasting entry decides before a time-bound one for the same host", () => {
    const d = doc({
      version: 1,
      bundles: [{ name: "o", scope: { type: "organization" }, domains: [{ pattern: "y.x.example", expiresAt: iso(T) }, "*.x.example"] }],
    });
    const decision = compilePolicy(d, { credentialsSet: new Set(), now: T - 10 }).decide("W", "C", get("https://y.x.example/"));
    expect(decision).toMatchObject({ outcome: "allowlisted", rule: "domain:o:*.x.example" });
    expect(decision.expiresAt).toBeUndefined();
  });

  it("property: at any instant a grant decides exactly as if lasting (before) or absent (at or after)", () => {
    const hosts = ["a.example", "b.example", "api.gh.example", "x.pastebin.example"];
    fc.assert(
      fc.property(
        fc.integer({ min: -5, max: 5 }),
        fc.constantFrom(...hosts),
        fc.constantFrom(...hosts),
        fc.boolean(),
        (offset, granted, asked, asConnection) => {
          const now = T + offset;
          const base = {
            version: 1,
            orgDeny: ["*.pastebin.example"],
            bundles: [{ name: "o", scope: { type: "organization" as const }, domains: ["b.example"], connections: [] as unknown[] }],
          };
          const withGrant = structuredClone(base);
          const lasting = structuredClone(base);
          if (asConnection) {
            withGrant.bundles[0]!.connections.push({
              name: "c",
              serviceAccount: "s",
              inject: { type: "bearer" },
              allowedWebsites: [granted],
              expiresAt: iso(T),
            });
            lasting.bundles[0]!.connections.push({
              name: "c",
              serviceAccount: "s",
              inject: { type: "bearer" },
              allowedWebsites: [granted],
            });
          } else if (granted !== "b.example") {
            (withGrant.bundles[0]!.domains as unknown[]).push({ pattern: granted, expiresAt: iso(T) });
            lasting.bundles[0]!.domains.push(granted);
          }
          const opts = { credentialsSet: new Set(["o/c"]), now };
          const got = compilePolicy(doc(withGrant), opts).decide("W", "C", get(`https://${asked}/`));
          const want = compilePolicy(doc(now < T ? lasting : base), opts).decide("W", "C", get(`https://${asked}/`));
          expect({ outcome: got.outcome, rule: got.rule }).toEqual({ outcome: want.outcome, rule: want.rule });
        },
      ),
      { numRuns: 400 },
    );
  });
});

describe("report-only mode", () => {
  const ro = doc({
    version: 1,
    orgDeny: ["*.pastebin.example"],
    bundles: [
      {
        name: "o",
        scope: { type: "organization" },
        domains: ["ok.example"],
        connections: [{ name: "gh", serviceAccount: "s", inject: { type: "bearer" }, allowedWebsites: ["api.gh.example"] }],
      },
    ],
    reportOnly: [
      { workspace: "T0ACME", channel: "C0ENG", until: iso(T) },
      { workspace: "T0WS", until: iso(T + 1000) },
    ],
  });
  const p = (now: number) => compilePolicy(ro, { credentialsSet: new Set(["o/gh"]), now });

  it("lets a would-be-blocked request out without a credential, saying what would have blocked it", () => {
    const d = p(T - 1).decide("T0ACME", "C0ENG", get("https://unlisted.example/"));
    expect(d).toMatchObject({
      outcome: "allowlisted",
      rule: "reportOnly:default:block",
      wouldBlock: { code: "host_not_allowed", rule: "default:block" },
      reportOnlyUntil: T,
      expiresAt: T,
    });
    expect(d.connection).toBeUndefined();
    expect(d.wouldBlock!.reason).toContain("unlisted.example");
  });

  it("never relaxes the org-wide deny list; credentials follow the normal rules", () => {
    expect(p(T - 1).decide("T0ACME", "C0ENG", get("https://x.pastebin.example/"))).toMatchObject({
      outcome: "blocked",
      code: "org_denied",
      reportOnlyUntil: T,
    });
    expect(p(T - 1).decide("T0ACME", "C0ENG", get("https://api.gh.example/"))).toMatchObject({
      outcome: "credentialed",
      reportOnlyUntil: T,
    });
    expect(p(T - 1).decide("T0ACME", "C0ENG", get("http://api.gh.example/")).connection).toBeUndefined();
  });

  it("applies to its channel, or to every channel of its workspace, and ends at until", () => {
    expect(p(T - 1).decide("T0ACME", "C0OPS", get("https://unlisted.example/")).outcome).toBe("blocked");
    expect(p(T - 1).decide("T0WS", "C0ANY", get("https://unlisted.example/")).outcome).toBe("allowlisted");
    expect(p(T).decide("T0ACME", "C0ENG", get("https://unlisted.example/")).outcome).toBe("blocked");
    expect(p(T).decide("T0ACME", "C0ENG", get("https://unlisted.example/")).reportOnlyUntil).toBeUndefined();
    expect(p(T + 1000).decide("T0WS", "C0ANY", get("https://unlisted.example/")).outcome).toBe("blocked");
  });

  it("refuses two windows for the same scope", () => {
    const r = validatePolicyDocument({
      version: 1,
      reportOnly: [
        { workspace: "W", until: iso(T) },
        { workspace: "W", until: iso(T + 1) },
      ],
    });
    expect(r.ok).toBe(false);
  });
});
