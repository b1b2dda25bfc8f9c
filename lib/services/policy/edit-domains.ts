import type { Actor } from "../../auth/permissions";
import { AppError } from "../../errors";
import { domainPattern, parseHostPattern, PatternError } from "../../policy";
import { authorize } from "../authorize";
import type { ServiceContext } from "../context";
import { applyPolicy } from "./apply-policy";
import { denyEntryCovering } from "./deny-covers";
import { clone, findBundle, validateDerived } from "./edit";

function canonicalPattern(raw: unknown, field: string): string {
  try {
    return parseHostPattern(String(raw ?? "")).text;
  } catch (err) {
    throw new AppError("invalid_field", `${field}: ${err instanceof PatternError ? err.message : "invalid host pattern"}`, { field });
  }
}

/** Adds a host pattern to a bundle's Domains tab (allowlist only: no credential travels there). */
export async function addDomain({
  ctx,
  actor,
  input,
}: {
  ctx: ServiceContext;
  actor: Actor | null;
  input: { bundle: string; pattern: unknown; acceptDenied?: boolean };
}): Promise<{ pattern: string }> {
  authorize(actor, "policy.write");
  const pattern = canonicalPattern(input.pattern, "pattern");
  await applyPolicy({
    ctx,
    actor,
    change: { action: "domain.added", bundle: input.bundle, detail: { after: { pattern } } },
    derive: (current) => {
      const next = clone(current);
      const bundle = findBundle(next, input.bundle);
      if (bundle.domains.some((d) => domainPattern(d) === pattern))
        throw new AppError("conflict", `${pattern} is already on this bundle's Domains tab`, { field: "pattern" });
      // Allowing what the org-wide deny list refuses would change nothing: say so, and add it
      // only when the Owner confirms (the impact preview shows the same warning).
      const denied = denyEntryCovering(next.orgDeny ?? [], pattern);
      if (denied && !input.acceptDenied && !ctx.draftOnly)
        throw new AppError(
          "conflict",
          `pattern: the org-wide deny list entry ${denied} blocks ${pattern}, so adding it changes nothing; remove it there first, or confirm to add it anyway`,
          { field: "pattern" },
        );
      bundle.domains.push(pattern);
      return validateDerived(next);
    },
  });
  return { pattern };
}

export async function removeDomain({
  ctx,
  actor,
  input,
}: {
  ctx: ServiceContext;
  actor: Actor | null;
  input: { bundle: string; pattern: string };
}): Promise<void> {
  authorize(actor, "policy.write");
  await applyPolicy({
    ctx,
    actor,
    change: { action: "domain.removed", bundle: input.bundle, detail: { before: { pattern: input.pattern } } },
    derive: (current) => {
      const next = clone(current);
      const bundle = findBundle(next, input.bundle);
      if (!bundle.domains.some((d) => domainPattern(d) === input.pattern))
        throw new AppError("not_found", `${input.pattern} is not on this bundle's Domains tab`);
      bundle.domains = bundle.domains.filter((d) => domainPattern(d) !== input.pattern);
      return validateDerived(next);
    },
  });
}

/** Replaces the org-wide deny list. */
export async function setOrgDeny({
  ctx,
  actor,
  input,
}: {
  ctx: ServiceContext;
  actor: Actor | null;
  input: { patterns: string[] };
}): Promise<void> {
  authorize(actor, "policy.write");
  const patterns = input.patterns.map((p, i) => canonicalPattern(p, `orgDeny[${i}]`));
  await applyPolicy({
    ctx,
    actor,
    change: { action: "org_deny.changed", detail: { after: { orgDeny: patterns } } },
    derive: (current) => validateDerived({ ...clone(current), orgDeny: [...new Set(patterns)] }),
  });
}

/** Which channels the agent may work in: null = every channel. */
export async function setChannels({
  ctx,
  actor,
  input,
}: {
  ctx: ServiceContext;
  actor: Actor | null;
  input: { channels: { workspace: string; channel: string }[] | null };
}): Promise<void> {
  authorize(actor, "policy.write");
  await applyPolicy({
    ctx,
    actor,
    change: { action: "channels.changed", detail: { after: { channels: input.channels } } },
    derive: (current) => {
      const next = clone(current);
      if (input.channels === null) delete next.channels;
      else next.channels = input.channels;
      return validateDerived(next);
    },
  });
}
