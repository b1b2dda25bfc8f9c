import { ownersWithoutTotp, readTotpRequired, writeTotpRequired } from "../../../db/queries/totp";
import { writeTransaction } from "../../../db/tx";
import { appendAuditEvents } from "../../audit";
import { actorLabel, type Actor } from "../../auth/permissions";
import { AppError } from "../../errors";
import { authorize } from "../authorize";
import type { ServiceContext } from "../context";

/**
 * Owner: require a second factor of every Owner who signs in with a password. Turned on only
 * when every such Owner already has one, so nobody is locked out by the switch itself; the CLI
 * (`gatehouse auth totp --not-required`) turns it off.
 */
export function setTotpRequired({ ctx, actor, input }: { ctx: ServiceContext; actor: Actor | null; input: { required: unknown } }): {
  changed: boolean;
} {
  authorize(actor, "settings.write");
  if (typeof input.required !== "boolean") throw new AppError("invalid_field", "required: must be true or false", { field: "required" });
  const required = input.required;
  return writeTransaction(ctx.db, () => {
    if (required) {
      const missing = ownersWithoutTotp(ctx.db);
      if (missing.length)
        throw new AppError(
          "conflict",
          `Every Owner with a password needs a second factor first; ${missing.length} ${missing.length === 1 ? "has" : "have"} none (${missing.slice(0, 3).join(", ")}${missing.length > 3 ? ", …" : ""}).`,
        );
    }
    const before = readTotpRequired(ctx.db);
    if (before === required) return { changed: false };
    writeTotpRequired(ctx.db, required);
    appendAuditEvents(
      ctx.db,
      [
        {
          kind: "access",
          action: "totp_required.changed",
          actor: actorLabel(actor),
          outcome: required ? "enabled" : "disabled",
          detail: { before: { totpRequiredForOwners: before }, after: { totpRequiredForOwners: required } },
        },
      ],
      ctx.now(),
    );
    return { changed: true };
  });
}
