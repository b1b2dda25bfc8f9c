import crypto from "node:crypto";
import { z } from "zod";
import { findUserByEmail, insertUser } from "../../../db/queries/users";
import { writeTransaction } from "../../../db/tx";
import { appendAuditEvents } from "../../audit";
import { actorLabel, type Actor } from "../../auth/permissions";
import { hashPassword, passwordProblem } from "../../auth/passwords";
import { AppError, invalid } from "../../errors";
import { authorize } from "../authorize";
import type { ServiceContext } from "../context";
import { firstIssue } from "../validation";

export const AddUserInput = z.object({
  email: z.string().trim().toLowerCase().email("is not an email address").max(254),
  role: z.enum(["owner", "auditor"], "must be owner or auditor"),
  password: z.string(),
});
export type AddUserInput = z.infer<typeof AddUserInput>;

export type AddedUser = { id: string; email: string; role: "owner" | "auditor" };

export async function addUser({ ctx, actor, input }: { ctx: ServiceContext; actor: Actor | null; input: unknown }): Promise<AddedUser> {
  authorize(actor, "user.write");
  const parsed = AddUserInput.safeParse(input);
  if (!parsed.success) throw firstIssue(parsed.error);
  const { email, role, password } = parsed.data;
  const problem = passwordProblem(password);
  if (problem) throw invalid("password", problem);
  const passwordHash = await hashPassword(password);
  const id = crypto.randomUUID();
  const now = ctx.now();
  await writeTransaction(ctx.db, async () => {
    if (await findUserByEmail(ctx.db, email))
      throw new AppError("conflict", `a user with email ${email} already exists`, { field: "email" });
    await insertUser(ctx.db, { id, email, role, passwordHash, createdAt: now });
    await appendAuditEvents(
      ctx.db,
      [{ kind: "admin", action: "user.added", actor: actorLabel(actor), detail: { after: { email, role } } }],
      now,
    );
  });
  return { id, email, role };
}
