import type { Actor } from "../../auth/permissions";
import { AppError } from "../../errors";
import { domainExpiresAt, domainPattern } from "../../policy";
import { authorize } from "../authorize";
import type { ServiceContext } from "../context";
import { applyPolicy } from "../policy/apply-policy";
import { clone, findBundle, validateDerived } from "../policy/edit";
import type { GrantRef } from "./extend-grant";

/**
 * Ends a time-bound grant now: the Domains entry or the connection goes (a connection's credential
 * with it, as when any connection is removed).
 */
export async function revokeGrant({ ctx, actor, input }: { ctx: ServiceContext; actor: Actor | null; input: GrantRef }): Promise<void> {
  authorize(actor, "policy.write");
  let before: string | undefined;
  await applyPolicy({
    ctx,
    actor,
    change: {
      action: "grant.revoked",
      bundle: input.bundle,
      ...(input.kind === "connection" ? { connection: input.name } : {}),
      get detail() {
        return { grant: input.kind, ...(input.kind === "domain" ? { pattern: input.name } : {}), before: { expiresAt: before } };
      },
    },
    derive: (current) => {
      const next = clone(current);
      const bundle = findBundle(next, input.bundle);
      if (input.kind === "domain") {
        const entry = bundle.domains.find((d) => domainPattern(d) === input.name);
        before = entry === undefined ? undefined : domainExpiresAt(entry);
        if (!before) throw new AppError("not_found", `${input.name} is not a time-bound grant of bundle ${input.bundle}`);
        bundle.domains = bundle.domains.filter((d) => domainPattern(d) !== input.name);
      } else {
        before = bundle.connections.find((c) => c.name === input.name)?.expiresAt;
        if (!before) throw new AppError("not_found", `${input.bundle}/${input.name} is not a time-bound connection`);
        bundle.connections = bundle.connections.filter((c) => c.name !== input.name);
      }
      return validateDerived(next);
    },
  });
}
