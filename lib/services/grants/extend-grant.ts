import type { Actor } from "../../auth/permissions";
import { AppError } from "../../errors";
import { domainExpiresAt, domainPattern } from "../../policy";
import { authorize } from "../authorize";
import type { ServiceContext } from "../context";
import { applyPolicy } from "../policy/apply-policy";
import { clone, findBundle, validateDerived } from "../policy/edit";
import { grantEnd } from "./grant-time";

/** A time-bound entry of a bundle: a Domains entry (by pattern) or a connection (by name). */
export type GrantRef = { bundle: string; kind: "domain" | "connection"; name: string };

/** Sets a new end for a time-bound grant (from now): longer or shorter. A lasting entry is not a grant. */
export async function extendGrant({
  ctx,
  actor,
  input,
}: {
  ctx: ServiceContext;
  actor: Actor | null;
  input: GrantRef & { duration?: unknown; until?: unknown };
}): Promise<{ expiresAt: string }> {
  authorize(actor, "policy.write");
  const expiresAt = new Date(grantEnd(input, ctx.now())).toISOString();
  let before: string | undefined;
  await applyPolicy({
    ctx,
    actor,
    change: {
      action: "grant.extended",
      bundle: input.bundle,
      ...(input.kind === "connection" ? { connection: input.name } : {}),
      get detail() {
        return {
          grant: input.kind,
          ...(input.kind === "domain" ? { pattern: input.name } : {}),
          before: { expiresAt: before },
          after: { expiresAt },
        };
      },
    },
    derive: (current) => {
      const next = clone(current);
      const bundle = findBundle(next, input.bundle);
      if (input.kind === "domain") {
        const i = bundle.domains.findIndex((d) => domainPattern(d) === input.name);
        before = i >= 0 ? domainExpiresAt(bundle.domains[i]!) : undefined;
        if (!before) throw new AppError("not_found", `${input.name} is not a time-bound grant of bundle ${input.bundle}`);
        bundle.domains[i] = { pattern: input.name, expiresAt };
      } else {
        const c = bundle.connections.find((x) => x.name === input.name);
        before = c?.expiresAt;
        if (!c || !before) throw new AppError("not_found", `${input.bundle}/${input.name} is not a time-bound connection`);
        c.expiresAt = expiresAt;
      }
      return validateDerived(next);
    },
  });
  return { expiresAt };
}
