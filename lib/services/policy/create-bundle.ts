import type { Actor } from "../../auth/permissions";
import { AppError } from "../../errors";
import type { ScopeDoc } from "../../policy";
import { authorize } from "../authorize";
import type { ServiceContext } from "../context";
import { applyPolicy } from "./apply-policy";
import { clone, listInput, validateDerived } from "./edit";

export type BundleScopeInput = { scopeType?: unknown; workspace?: unknown; channels?: unknown };

export function scopeFromInput(input: BundleScopeInput): ScopeDoc {
  const type = String(input.scopeType ?? "organization");
  if (type === "organization") return { type: "organization" };
  if (type === "workspace") return { type: "workspace", workspace: String(input.workspace ?? "").trim() };
  if (type === "channels")
    return { type: "channels", workspace: String(input.workspace ?? "").trim(), channels: listInput(input.channels) };
  throw new AppError("invalid_field", "scope.type: must be organization, workspace or channels", { field: "scope.type" });
}

export function createBundle({
  ctx,
  actor,
  input,
}: {
  ctx: ServiceContext;
  actor: Actor | null;
  input: { name?: unknown } & BundleScopeInput;
}): { name: string } {
  authorize(actor, "policy.write");
  const name = String(input.name ?? "").trim();
  const scope = scopeFromInput(input);
  applyPolicy({
    ctx,
    actor,
    change: { action: "bundle.created", bundle: name, detail: { after: { name, scope } } },
    derive: (current) => {
      if (current.bundles.some((b) => b.name === name))
        throw new AppError("conflict", `a bundle named "${name}" already exists`, { field: "name" });
      const next = clone(current);
      next.bundles.push({ name, scope, domains: [], connections: [] });
      return validateDerived(next);
    },
  });
  return { name };
}
