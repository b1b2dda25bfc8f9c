import { z } from "zod";
import { updateUser } from "../../../db/queries/users";
import { writeTransaction } from "../../../db/tx";
import { appendAuditEvents } from "../../audit";
import { actorLabel, type Actor } from "../../auth/permissions";
import { hashPassword, passwordProblem } from "../../auth/passwords";
import { invalid } from "../../errors";
import { authorize } from "../authorize";
import type { ServiceContext } from "../context";
import { firstIssue } from "../validation";
import { UserEmail, userByEmail } from "./find-user";

export const SetUserPasswordInput = z.object({ email: UserEmail, password: z.string() });

/** Sets a user's password; every dashboard session of theirs ends at once. */
export async function setUserPassword({ ctx, actor, input }: { ctx: ServiceContext; actor: Actor | null; input: unknown }): Promise<void> {
  authorize(actor, "user.write");
  const parsed = SetUserPasswordInput.safeParse(input);
  if (!parsed.success) throw firstIssue(parsed.error);
  const { email, password } = parsed.data;
  const problem = passwordProblem(password);
  if (problem) throw invalid("password", problem);
  userByEmail(ctx.db, email);
  const passwordHash = await hashPassword(password);
  const now = ctx.now();
  writeTransaction(ctx.db, () => {
    const user = userByEmail(ctx.db, email);
    updateUser(ctx.db, user.id, { passwordHash });
    appendAuditEvents(
      ctx.db,
      [
        {
          kind: "admin",
          action: "user.password_changed",
          actor: actorLabel(actor),
          detail: { after: { email, password: "[write-only]" } },
        },
      ],
      now,
    );
  });
}
