import { readSessionSettings } from "../../../db/queries/sessions";
import type { Actor } from "../../auth/permissions";
import { authorize } from "../authorize";
import type { ServiceContext } from "../context";

export async function getSessionSettings({ ctx, actor }: { ctx: ServiceContext; actor: Actor | null }) {
  authorize(actor, "policy.read");
  return await readSessionSettings(ctx.db);
}
