import type { Actor } from "../../auth/permissions";
import { authorize } from "../authorize";
import type { ServiceContext } from "../context";
import { applyPolicy } from "./apply-policy";
import { scopeFromInput, type BundleScopeInput } from "./create-bundle";
import { clone, findBundle, validateDerived } from "./edit";

export function updateBundleScope({
  ctx,
  actor,
  input,
}: {
  ctx: ServiceContext;
  actor: Actor | null;
  input: { bundle: string } & BundleScopeInput;
}): void {
  authorize(actor, "policy.write");
  const scope = scopeFromInput(input);
  applyPolicy({
    ctx,
    actor,
    change: { action: "bundle.updated", bundle: input.bundle, detail: { after: { scope } } },
    derive: (current) => {
      const next = clone(current);
      findBundle(next, input.bundle).scope = scope;
      return validateDerived(next);
    },
  });
}
