import { readTotpRequired } from "../../../db/queries/totp";
import type { ServiceContext } from "../context";

/** Whether Owners who sign in with a password must use a second factor. */
export async function getTotpRequired({ ctx }: { ctx: ServiceContext }): Promise<boolean> {
  return await readTotpRequired(ctx.db);
}
