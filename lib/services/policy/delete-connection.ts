import type { Actor } from "../../auth/permissions";
import { AppError } from "../../errors";
import { authorize } from "../authorize";
import type { ServiceContext } from "../context";
import { applyPolicy } from "./apply-policy";
import { clone, findBundle, validateDerived } from "./edit";

export function deleteConnection({
  ctx,
  actor,
  input,
}: {
  ctx: ServiceContext;
  actor: Actor | null;
  input: { bundle: string; connection: string };
}): void {
  authorize(actor, "policy.write");
  applyPolicy({
    ctx,
    actor,
    change: { action: "connection.deleted", bundle: input.bundle, connection: input.connection },
    derive: (current) => {
      const next = clone(current);
      const bundle = findBundle(next, input.bundle);
      if (!bundle.connections.some((c) => c.name === input.connection))
        throw new AppError("not_found", `no connection ${input.bundle}/${input.connection}`);
      bundle.connections = bundle.connections.filter((c) => c.name !== input.connection);
      return validateDerived(next);
    },
  });
}
