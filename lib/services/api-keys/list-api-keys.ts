import { listApiKeys as rows } from "../../../db/queries/api-keys";
import type { Actor } from "../../auth/permissions";
import { authorize } from "../authorize";
import type { ServiceContext } from "../context";

export function listApiKeys({ ctx, actor }: { ctx: ServiceContext; actor: Actor | null }) {
  authorize(actor, "apikey.read");
  return rows(ctx.db);
}
