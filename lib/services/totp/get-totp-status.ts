import { readTotp } from "../../../db/queries/totp";
import type { Actor } from "../../auth/permissions";
import type { ServiceContext } from "../context";

/** The signed-in person's own second factor: on, off, or handled by their IdP. */
export function getTotpStatus({ ctx, actor }: { ctx: ServiceContext; actor: Extract<Actor, { type: "user" }> }): "on" | "off" | "sso" {
  const row = readTotp(ctx.db, actor.id);
  if (!row || row.oidcSubject) return "sso";
  return row.secretSealed ? "on" : "off";
}
