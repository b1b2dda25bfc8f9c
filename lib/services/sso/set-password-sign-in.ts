import { countOidcOwners, readPasswordSignIn, writePasswordSignIn } from "../../../db/queries/sso";
import { writeTransaction } from "../../../db/tx";
import { appendAuditEvents } from "../../audit";
import { actorLabel, type Actor } from "../../auth/permissions";
import { AppError } from "../../errors";
import { authorize } from "../authorize";
import type { ServiceContext } from "../context";
import { getOidcConfig } from "./oidc-config";

/**
 * Break-glass: local passwords may be turned off only while an IdP is configured and an Owner has
 * already signed in through it (so someone can still administer); turning them on always works
 * (the CLI's `auth password --enable`). Audited either way.
 */
export function setPasswordSignIn({ ctx, actor, input }: { ctx: ServiceContext; actor: Actor | null; input: { enabled: unknown } }): {
  changed: boolean;
} {
  authorize(actor, "settings.write");
  if (typeof input.enabled !== "boolean") throw new AppError("invalid_field", "enabled: must be true or false", { field: "enabled" });
  const enabled = input.enabled;
  if (!enabled && !getOidcConfig(ctx))
    throw new AppError("conflict", "Configure sign-in through your identity provider before turning passwords off.");
  return writeTransaction(ctx.db, () => {
    if (!enabled && countOidcOwners(ctx.db) === 0)
      throw new AppError(
        "conflict",
        "No Owner has signed in through your identity provider yet: one must, before passwords can be turned off.",
      );
    const before = readPasswordSignIn(ctx.db);
    if (before === enabled) return { changed: false };
    writePasswordSignIn(ctx.db, enabled);
    appendAuditEvents(
      ctx.db,
      [
        {
          kind: "access",
          action: "password_signin.changed",
          actor: actorLabel(actor),
          outcome: enabled ? "enabled" : "disabled",
          detail: { before: { passwordSignIn: before }, after: { passwordSignIn: enabled } },
        },
      ],
      ctx.now(),
    );
    return { changed: true };
  });
}
