import { clearLimit } from "../../../db/queries/sign-in-limits";
import { countOwners, deleteUser } from "../../../db/queries/users";
import { writeTransaction } from "../../../db/tx";
import { appendAuditEvents } from "../../audit";
import { actorLabel, type Actor } from "../../auth/permissions";
import { AppError } from "../../errors";
import { authorize } from "../authorize";
import type { ServiceContext } from "../context";
import { firstIssue } from "../validation";
import { UserEmail, userByEmail } from "./find-user";

/** Removes a dashboard user; their sessions end with the row. The last Owner stays. */
export async function removeUser({
  ctx,
  actor,
  input,
}: {
  ctx: ServiceContext;
  actor: Actor | null;
  input: { email: unknown };
}): Promise<void> {
  authorize(actor, "user.write");
  const parsed = UserEmail.safeParse(input.email);
  if (!parsed.success) throw firstIssue(parsed.error);
  const email = parsed.data;
  const now = ctx.now();
  await writeTransaction(ctx.db, async () => {
    const user = await userByEmail(ctx.db, email);
    if (user.role === "owner" && (await countOwners(ctx.db)) <= 1)
      throw new AppError("conflict", "the last Owner cannot be removed", { field: "email" });
    await deleteUser(ctx.db, user.id);
    await clearLimit(ctx.db, { scope: "account", subject: email });
    await appendAuditEvents(
      ctx.db,
      [{ kind: "admin", action: "user.removed", actor: actorLabel(actor), detail: { before: { email, role: user.role } } }],
      now,
    );
  });
}
