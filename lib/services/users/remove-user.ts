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
export function removeUser({ ctx, actor, input }: { ctx: ServiceContext; actor: Actor | null; input: { email: unknown } }): void {
  authorize(actor, "user.write");
  const parsed = UserEmail.safeParse(input.email);
  if (!parsed.success) throw firstIssue(parsed.error);
  const email = parsed.data;
  const now = ctx.now();
  writeTransaction(ctx.db, () => {
    const user = userByEmail(ctx.db, email);
    if (user.role === "owner" && countOwners(ctx.db) <= 1)
      throw new AppError("conflict", "the last Owner cannot be removed", { field: "email" });
    deleteUser(ctx.db, user.id);
    clearLimit(ctx.db, { scope: "account", subject: email });
    appendAuditEvents(
      ctx.db,
      [{ kind: "admin", action: "user.removed", actor: actorLabel(actor), detail: { before: { email, role: user.role } } }],
      now,
    );
  });
}
