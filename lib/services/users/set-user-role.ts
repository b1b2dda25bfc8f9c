import { z } from "zod";
import { countOwners, updateUser } from "../../../db/queries/users";
import { writeTransaction } from "../../../db/tx";
import { appendAuditEvents } from "../../audit";
import { actorLabel, type Actor } from "../../auth/permissions";
import { AppError } from "../../errors";
import { authorize } from "../authorize";
import type { ServiceContext } from "../context";
import { firstIssue } from "../validation";
import { UserEmail, userByEmail } from "./find-user";

export const SetUserRoleInput = z.object({ email: UserEmail, role: z.enum(["owner", "auditor"], "must be owner or auditor") });

/** Changes a user's role; their dashboard sessions end, so the new role applies from a fresh sign-in. */
export function setUserRole({ ctx, actor, input }: { ctx: ServiceContext; actor: Actor | null; input: unknown }): void {
  authorize(actor, "user.write");
  const parsed = SetUserRoleInput.safeParse(input);
  if (!parsed.success) throw firstIssue(parsed.error);
  const { email, role } = parsed.data;
  const now = ctx.now();
  writeTransaction(ctx.db, () => {
    const user = userByEmail(ctx.db, email);
    if (user.role === role) return;
    if (user.role === "owner" && countOwners(ctx.db) <= 1)
      throw new AppError("conflict", "the last Owner cannot be demoted", { field: "role" });
    updateUser(ctx.db, user.id, { role });
    appendAuditEvents(
      ctx.db,
      [
        {
          kind: "admin",
          action: "user.role_changed",
          actor: actorLabel(actor),
          detail: { before: { email, role: user.role }, after: { email, role } },
        },
      ],
      now,
    );
  });
}
