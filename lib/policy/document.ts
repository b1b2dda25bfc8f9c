// The policy document of spec §6 and its validation. Errors name the field at fault.
import { z } from "zod";
import { parseHostPattern, patternMatches, PatternError } from "./pattern";
import { canonicalHost, normalisePath } from "./normalize";

const name = z
  .string()
  .trim()
  .min(1, "is required")
  .max(64, "is at most 64 characters")
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, "use letters, digits, '.', '_' or '-'");

const slackId = z
  .string()
  .trim()
  .min(1, "is required")
  .max(64)
  .regex(/^[A-Za-z0-9._-]+$/, "is not a valid id");

const hostPattern = z.string().transform((value, ctx) => {
  try {
    return parseHostPattern(value).text;
  } catch (err) {
    ctx.addIssue({ code: "custom", message: err instanceof PatternError ? err.message : "invalid host pattern" });
    return z.NEVER;
  }
});

const patternList = z.array(hostPattern).superRefine((list, ctx) => {
  const seen = new Set<string>();
  list.forEach((p, i) => {
    if (seen.has(p)) ctx.addIssue({ code: "custom", path: [i], message: `"${p}" is listed twice` });
    seen.add(p);
  });
});

/** An instant in RFC 3339 (`2026-12-01T09:00:00Z`, an offset, optional fractions); stored in UTC. */
export const Instant = z
  .string()
  .max(40)
  .transform((value, ctx) => {
    const ms = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$/.test(value)
      ? Date.parse(value.toUpperCase())
      : NaN;
    if (!Number.isFinite(ms)) {
      ctx.addIssue({ code: "custom", message: `"${value}" is not an RFC 3339 time such as 2026-12-01T09:00:00Z` });
      return z.NEVER;
    }
    return new Date(ms).toISOString();
  });

/** A Domains entry: a host pattern, or one granted until `expiresAt` (a time-bound grant). */
const domainGrant = z.object({ pattern: hostPattern, expiresAt: Instant }).strict();
// Not z.union: its error would say "Invalid input" instead of what is wrong with the entry.
const domainEntry = z.unknown().transform((value, ctx): string | { pattern: string; expiresAt: string } => {
  const r = typeof value === "string" ? hostPattern.safeParse(value) : domainGrant.safeParse(value);
  if (r.success) return r.data;
  for (const issue of r.error.issues)
    ctx.addIssue({
      code: "custom",
      path: issue.path,
      message: typeof value === "string" || typeof value === "object" ? issue.message : "must be a host pattern or { pattern, expiresAt }",
    });
  return z.NEVER;
});

const domainList = z.array(domainEntry).superRefine((list, ctx) => {
  const seen = new Set<string>();
  list.forEach((entry, i) => {
    const p = typeof entry === "string" ? entry : entry.pattern;
    if (seen.has(p)) ctx.addIssue({ code: "custom", path: [i], message: `"${p}" is listed twice` });
    seen.add(p);
  });
});

/**
 * Headers a credential may not travel in: framing, routing and hop-by-hop headers (RFC 9110
 * §7.6.1), which the proxy rewrites or strips, and the proxy's own and the cookie jar's.
 */
const NOT_INJECTABLE = new Set([
  "host",
  "content-length",
  "transfer-encoding",
  "connection",
  "proxy-connection",
  "keep-alive",
  "te",
  "trailer",
  "upgrade",
  "expect",
  "proxy-authorization",
  "proxy-authenticate",
  "cookie",
]);

export const InjectSchema = z.discriminatedUnion("type", [
  z.object({ type: z.literal("bearer") }).strict(),
  z.object({ type: z.literal("basic"), username: z.string().min(1, "is required").max(256) }).strict(),
  z
    .object({
      type: z.literal("header"),
      name: z
        .string()
        .regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/, "is not a valid header name")
        .refine((h) => !NOT_INJECTABLE.has(h.toLowerCase()), "cannot be a transport or proxy header"),
    })
    .strict(),
]);

export const NarrowSchema = z
  .object({
    host: z
      .string()
      .optional()
      .transform((value, ctx) => {
        if (value === undefined || value === "") return undefined;
        const host = canonicalHost(value);
        if (!host) {
          ctx.addIssue({ code: "custom", message: `"${value}" is not a host` });
          return z.NEVER;
        }
        return host;
      }),
    pathPrefix: z
      .string()
      .optional()
      .transform((value, ctx) => {
        if (value === undefined || value === "") return undefined;
        if (!value.startsWith("/")) {
          ctx.addIssue({ code: "custom", message: "must start with /" });
          return z.NEVER;
        }
        // Stored as requests are matched: normalised the way request paths are, so that some
        // request can fit it; refused where no request path could be spelled the same way.
        if (/[?#]/.test(value)) {
          ctx.addIssue({ code: "custom", message: "is a path: no query (?) or fragment (#)" });
          return z.NEVER;
        }
        const bad = /[^A-Za-z0-9\-._~%!$&'()*+,;=:@/]/.exec(value);
        if (bad) {
          ctx.addIssue({
            code: "custom",
            message: `contains ${JSON.stringify(bad[0])}, which a request carries percent-encoded: write it as %${bad[0].charCodeAt(0) < 128 ? bad[0].charCodeAt(0).toString(16).toUpperCase().padStart(2, "0") : "XX (its UTF-8 bytes)"}`,
          });
          return z.NEVER;
        }
        const n = normalisePath(value);
        if (!n) {
          ctx.addIssue({ code: "custom", message: "has malformed percent-encoding" });
          return z.NEVER;
        }
        if (n.ambiguous) {
          ctx.addIssue({
            code: "custom",
            message: `contains ${n.ambiguous}, which servers read differently; no request fits such a prefix`,
          });
          return z.NEVER;
        }
        return n.path.length > 1 && n.path.endsWith("/") ? n.path.slice(0, -1) : n.path;
      }),
    methods: z
      .enum(["read_only", "any"])
      .optional()
      .transform((m) => (m === "read_only" ? m : undefined)),
  })
  .strict();

export const ConnectionSchema = z
  .object({
    name,
    serviceAccount: z.string().trim().min(1, "is required").max(256),
    inject: InjectSchema,
    allowedWebsites: patternList.min(1, "list at least one website the credential may travel to"),
    narrow: NarrowSchema.optional(),
    /** A time-bound grant: after this instant the connection is gone from every decision. */
    expiresAt: Instant.optional(),
  })
  .strict();

export const ScopeSchema = z.discriminatedUnion("type", [
  z.object({ type: z.literal("organization") }).strict(),
  z.object({ type: z.literal("workspace"), workspace: slackId }).strict(),
  z.object({ type: z.literal("channels"), workspace: slackId, channels: z.array(slackId).min(1, "name at least one channel") }).strict(),
]);

export const BundleSchema = z
  .object({
    name,
    scope: ScopeSchema,
    domains: domainList.default([]),
    connections: z.array(ConnectionSchema).default([]),
  })
  .strict()
  .superRefine((b, ctx) => {
    const seen = new Set<string>();
    b.connections.forEach((c, i) => {
      if (seen.has(c.name))
        ctx.addIssue({ code: "custom", path: ["connections", i, "name"], message: `"${c.name}" is used twice in this bundle` });
      seen.add(c.name);
    });
    b.connections.forEach((c, i) => {
      const host = c.narrow?.host;
      // On any port: the narrowing names a host, the website patterns say where it may be reached.
      if (
        host &&
        !c.allowedWebsites.some((w) => {
          const p = parseHostPattern(w);
          return patternMatches({ ...p, port: null }, host, 443, "https");
        })
      ) {
        ctx.addIssue({ code: "custom", path: ["connections", i, "narrow", "host"], message: "must be one of the Allowed websites" });
      }
    });
  });

export const MemberAccessSchema = z
  .object({
    mode: z.enum(["anyone", "org_members", "roles"]),
    roles: z.array(z.string().trim().min(1).max(64)).default([]),
    directMessages: z.enum(["enabled", "disabled"]).default("enabled"),
  })
  .strict()
  .superRefine((m, ctx) => {
    if (m.mode === "roles" && m.roles.length === 0)
      ctx.addIssue({ code: "custom", path: ["roles"], message: "name at least one role when mode is roles" });
  });

export const PolicyDocumentSchema = z
  .object({
    version: z.literal(1, "must be 1"),
    memberAccess: MemberAccessSchema.default({ mode: "org_members", roles: [], directMessages: "enabled" }),
    orgDeny: patternList.default([]),
    bundles: z.array(BundleSchema).default([]),
    channels: z.array(z.object({ workspace: slackId, channel: slackId }).strict()).optional(),
    /**
     * Report-only rollout: until `until`, a request of this workspace (or only this channel) that
     * would be blocked for not being listed goes out without a credential and is logged. At most
     * 7 days ahead when written (checked where the clock is: lib/services/policy/report-only.ts).
     */
    reportOnly: z
      .array(z.object({ workspace: slackId, channel: slackId.optional(), until: Instant }).strict())
      .max(1000)
      .optional(),
  })
  .strict()
  .superRefine((doc, ctx) => {
    const scopes = new Set<string>();
    doc.reportOnly?.forEach((r, i) => {
      const key = `${r.workspace}/${r.channel ?? ""}`;
      if (scopes.has(key))
        ctx.addIssue({
          code: "custom",
          path: ["reportOnly", i],
          message: `report-only is set twice for ${r.channel ? `channel ${r.channel} in ` : "workspace "}${r.workspace}`,
        });
      scopes.add(key);
    });
    const names = new Set<string>();
    doc.bundles.forEach((b, i) => {
      if (names.has(b.name)) ctx.addIssue({ code: "custom", path: ["bundles", i, "name"], message: `bundle "${b.name}" is defined twice` });
      names.add(b.name);
    });
    // Two bundles at the same scope level that can apply to the same channel must not both
    // define a connection of the same name: which one wins would be arbitrary.
    for (let i = 0; i < doc.bundles.length; i++) {
      for (let j = 0; j < i; j++) {
        const a = doc.bundles[j]!;
        const b = doc.bundles[i]!;
        if (!scopesOverlapAtSameLevel(a.scope, b.scope)) continue;
        b.connections.forEach((c, k) => {
          if (a.connections.some((other) => other.name === c.name)) {
            ctx.addIssue({
              code: "custom",
              path: ["bundles", i, "connections", k, "name"],
              message: `"${c.name}" is also defined by bundle "${a.name}" at the same scope; give one a different name or scope`,
            });
          }
        });
      }
    }
  });

function scopesOverlapAtSameLevel(a: z.infer<typeof ScopeSchema>, b: z.infer<typeof ScopeSchema>): boolean {
  if (a.type !== b.type) return false;
  if (a.type === "organization") return true;
  if (a.type === "workspace" && b.type === "workspace") return a.workspace === b.workspace;
  if (a.type === "channels" && b.type === "channels") {
    return a.workspace === b.workspace && a.channels.some((c) => b.channels.includes(c));
  }
  return false;
}

export type PolicyDocument = z.infer<typeof PolicyDocumentSchema>;
export type BundleDoc = PolicyDocument["bundles"][number];
export type ConnectionDoc = BundleDoc["connections"][number];
export type ScopeDoc = BundleDoc["scope"];
export type InjectDoc = ConnectionDoc["inject"];
export type MemberAccessDoc = PolicyDocument["memberAccess"];
export type DomainEntry = BundleDoc["domains"][number];
export type ReportOnlyDoc = NonNullable<PolicyDocument["reportOnly"]>[number];

/** The host pattern of a Domains entry, time-bound or not. */
export function domainPattern(entry: DomainEntry): string {
  return typeof entry === "string" ? entry : entry.pattern;
}

/** When a Domains entry expires (RFC 3339), or undefined for a lasting one. */
export function domainExpiresAt(entry: DomainEntry): string | undefined {
  return typeof entry === "string" ? undefined : entry.expiresAt;
}

export type FieldError = { field: string; message: string };

export function validatePolicyDocument(input: unknown): { ok: true; document: PolicyDocument } | { ok: false; errors: FieldError[] } {
  const parsed = PolicyDocumentSchema.safeParse(input);
  if (parsed.success) return { ok: true, document: parsed.data };
  return {
    ok: false,
    errors: parsed.error.issues.map((issue) => ({
      field:
        issue.path
          .map((p) => (typeof p === "number" ? `[${p}]` : `.${String(p)}`))
          .join("")
          .replace(/^\./, "") || "(document)",
      message: issue.message,
    })),
  };
}

export const emptyPolicy: PolicyDocument = {
  version: 1,
  memberAccess: { mode: "org_members", roles: [], directMessages: "enabled" },
  orgDeny: [],
  bundles: [],
};

export function credentialIdentity(bundle: string, connection: string): string {
  return `${bundle}/${connection}`;
}
