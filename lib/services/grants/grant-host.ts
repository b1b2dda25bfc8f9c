import type { Actor } from "../../auth/permissions";
import { AppError } from "../../errors";
import { domainExpiresAt, domainPattern, parseHostPattern, PatternError, type PolicyDocument } from "../../policy";
import { authorize } from "../authorize";
import type { ServiceContext } from "../context";
import { applyPolicy } from "../policy/apply-policy";
import { denyEntryCovering } from "../policy/deny-covers";
import { clone, findBundle, validateDerived } from "../policy/edit";
import { grantEnd } from "./grant-time";

/** Where a host is granted: a bundle's Domains tab, or a channel or workspace (its grants bundle). */
export type GrantTarget = { bundle: string } | { workspace: string; channel?: string };

export type GrantHostInput = { target: GrantTarget; pattern: unknown; duration?: unknown; until?: unknown };

export type GrantHostResult = { bundle: string; pattern: string; expiresAt: string; extended: boolean };

/** The bundle a channel's (or a workspace's) grants land in, created with the first one. */
export function grantsBundleName(workspace: string, channel?: string): string {
  return channel ? `grants-${workspace}-${channel}` : `grants-${workspace}`;
}

const slackId = /^[A-Za-z0-9._-]{1,64}$/;

/**
 * Grants a host for a bounded time (a time-bound Domains entry). Granting a host that is already
 * granted there extends (or shortens) the grant; a lasting entry for it is left alone (conflict).
 */
export async function grantHost({
  ctx,
  actor,
  input,
}: {
  ctx: ServiceContext;
  actor: Actor | null;
  input: GrantHostInput;
}): Promise<GrantHostResult> {
  authorize(actor, "policy.write");
  let pattern: string;
  try {
    pattern = parseHostPattern(String(input.pattern ?? "")).text;
  } catch (err) {
    throw new AppError("invalid_field", `pattern: ${err instanceof PatternError ? err.message : "invalid host pattern"}`, {
      field: "pattern",
    });
  }
  const t = input.target;
  if (!("bundle" in t)) {
    if (!slackId.test(t.workspace)) throw new AppError("invalid_field", "workspace: is not a valid id", { field: "workspace" });
    if (t.channel !== undefined && !slackId.test(t.channel))
      throw new AppError("invalid_field", "channel: is not a valid id", { field: "channel" });
  }
  const now = ctx.now();
  const expiresAt = new Date(grantEnd(input, now)).toISOString();
  const bundleName = "bundle" in t ? t.bundle : grantsBundleName(t.workspace, t.channel);
  let extended = false;
  let before: string | undefined;
  const derive = (current: PolicyDocument) => {
    const next = clone(current);
    const denied = denyEntryCovering(next.orgDeny ?? [], pattern);
    if (denied)
      throw new AppError("conflict", `pattern: the org-wide deny list entry ${denied} blocks ${pattern}; a grant would change nothing`, {
        field: "pattern",
      });
    let bundle = next.bundles.find((b) => b.name === bundleName);
    if (!bundle) {
      if ("bundle" in t) bundle = findBundle(next, t.bundle);
      else {
        bundle = {
          name: bundleName,
          scope: t.channel
            ? { type: "channels", workspace: t.workspace, channels: [t.channel] }
            : { type: "workspace", workspace: t.workspace },
          domains: [],
          connections: [],
        };
        next.bundles.push(bundle);
      }
    }
    const i = bundle.domains.findIndex((d) => domainPattern(d) === pattern);
    if (i >= 0) {
      before = domainExpiresAt(bundle.domains[i]!);
      if (!before)
        throw new AppError("conflict", `${pattern} is already on bundle ${bundleName}'s Domains tab for good`, { field: "pattern" });
      extended = true;
      bundle.domains[i] = { pattern, expiresAt };
    } else bundle.domains.push({ pattern, expiresAt });
    return validateDerived(next);
  };
  // Added or extended is known once derive has run inside the transaction; applyPolicy reads
  // the action and detail after that.
  await applyPolicy({
    ctx,
    actor,
    change: {
      get action() {
        return extended ? ("grant.extended" as const) : ("grant.added" as const);
      },
      bundle: bundleName,
      get detail() {
        return { grant: "domain", pattern, ...(before ? { before: { expiresAt: before } } : {}), after: { expiresAt } };
      },
    },
    derive,
  });
  return { bundle: bundleName, pattern, expiresAt, extended };
}
