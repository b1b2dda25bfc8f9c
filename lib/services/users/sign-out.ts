import { bumpSessionVersion } from "../../../db/queries/users";
import { writeTransaction } from "../../../db/tx";
import { appendAuditEvents } from "../../audit";
import type { Actor } from "../../auth/permissions";
import { AppError } from "../../errors";
import type { ServiceContext } from "../context";

/** Signs a person out everywhere: every session cookie issued to them is refused from now on. */
export async function signOut({ ctx, actor }: { ctx: ServiceContext; actor: Actor | null }): Promise<void> {
  if (!actor) throw new AppError("unauthenticated", "sign in first");
  if (actor.type !== "user") throw new AppError("forbidden", "only a signed-in person can sign out");
  const now = ctx.now();
  await writeTransaction(ctx.db, async () => {
    await bumpSessionVersion(ctx.db, actor.id);
    await appendAuditEvents(ctx.db, [{ kind: "access", action: "signout", actor: actor.email, outcome: "granted" }], now);
  });
}
