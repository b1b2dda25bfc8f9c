import type { Actor } from "../../auth/permissions";
import { AppError } from "../../errors";
import { authorize } from "../authorize";
import type { ServiceContext } from "../context";
import { applyPolicy, validateOrThrow } from "../policy/apply-policy";
import { listInput } from "../policy/edit";

/** Who may invoke the agent and whether DMs are allowed: part of the policy document. */
export function updateMemberAccess({
  ctx,
  actor,
  input,
}: {
  ctx: ServiceContext;
  actor: Actor | null;
  input: { mode: unknown; roles: unknown; directMessages: unknown };
}): void {
  authorize(actor, "policy.write");
  const memberAccess = {
    mode: String(input.mode ?? ""),
    roles: listInput(input.roles),
    directMessages: String(input.directMessages ?? ""),
  };
  applyPolicy({
    ctx,
    actor,
    change: { action: "member_access.changed", detail: { after: memberAccess } },
    derive: (current) => {
      try {
        return validateOrThrow({ ...current, memberAccess });
      } catch (err) {
        if (!(err instanceof AppError) || !err.fields) throw err;
        // Report against the form's own names: mode, roles, directMessages.
        const fields = err.fields.map((f) => ({
          field: f.field.replace(/^memberAccess\./, "").replace(/\[\d+\]$/, ""),
          message: f.message,
        }));
        throw new AppError("invalid_field", `${fields[0]!.field}: ${fields[0]!.message}`, { fields });
      }
    },
  });
}
