import type { Actor } from "../../auth/permissions";
import { authorize } from "../authorize";
import type { ServiceContext } from "../context";
import { applyPolicy } from "./apply-policy";
import { clone, findBundle, validateDerived } from "./edit";

/** Removes a bundle; credentials of its connections are revoked in the same transaction. */
export async function deleteBundle({
  ctx,
  actor,
  input,
}: {
  ctx: ServiceContext;
  actor: Actor | null;
  input: { bundle: string };
}): Promise<void> {
  authorize(actor, "policy.write");
  await applyPolicy({
    ctx,
    actor,
    change: { action: "bundle.deleted", bundle: input.bundle },
    derive: (current) => {
      findBundle(current, input.bundle);
      const next = clone(current);
      next.bundles = next.bundles.filter((b) => b.name !== input.bundle);
      return validateDerived(next);
    },
  });
}
