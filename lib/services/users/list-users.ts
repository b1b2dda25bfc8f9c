import { listUsers as listUserRows } from "../../../db/queries/users";
import type { Actor } from "../../auth/permissions";
import { authorize } from "../authorize";
import type { ServiceContext } from "../context";

export function listUsers({ ctx, actor }: { ctx: ServiceContext; actor: Actor | null }) {
  authorize(actor, "user.read");
  return listUserRows(ctx.db, ctx.now());
}
