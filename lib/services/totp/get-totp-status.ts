import { readTotp } from "../../../db/queries/totp";
import type { Actor } from "../../auth/permissions";
import type { ServiceContext } from "../context";

/** The signed-in person's own second factor: on, off, or handled by their IdP. */
export async function getTotpStatus({
  ctx,
  actor,
}: {
  ctx: ServiceContext;
  actor: Extract<Actor, { type: "user" }>;
}): Promise<"on" | "off" | "sso"> {
  const row = await readTotp(ctx.db, actor.id);
  if (!row || row.oidcSubject) return "sso";
  return row.secretSealed ? "on" : "off";
}
