import crypto from "node:crypto";
import { eq } from "drizzle-orm";
import { z } from "zod";
import { countUsers, insertUser } from "../../../db/queries/users";
import { writeTransaction } from "../../../db/tx";
import { appendAuditEvents } from "../../audit";
import { hashPassword, passwordProblem } from "../../auth/passwords";
import { tokenHash } from "../../auth/tokens";
import { AppError, invalid } from "../../errors";
import type { ServiceContext } from "../context";
import { firstIssue } from "../validation";

const Input = z.object({
  token: z.string().min(1, "is required"),
  email: z.string().trim().toLowerCase().email("is not an email address"),
  password: z.string(),
});

/** Spends a setup link: creates the first Owner. The link works once, before it expires, while there are no users. */
export async function completeSetup({ ctx, input }: { ctx: ServiceContext; input: unknown }): Promise<{ email: string }> {
  const parsed = Input.safeParse(input);
  if (!parsed.success) throw firstIssue(parsed.error);
  const { token, email, password } = parsed.data;
  const problem = passwordProblem(password);
  if (problem) throw invalid("password", problem);
  const passwordHash = await hashPassword(password);
  const now = ctx.now();
  await writeTransaction(ctx.db, async (tx) => {
    const { setupTokens } = tx.t;
    const row = (
      await tx
        .select()
        .from(setupTokens)
        .where(eq(setupTokens.tokenHash, tokenHash(token)))
    )[0];
    if (!row || row.usedAt || row.expiresAt <= now || (await countUsers(ctx.db)) > 0) {
      throw new AppError("forbidden", "this setup link is invalid, used or expired; restart Gatehouse for a new one", { field: "token" });
    }
    await tx.update(setupTokens).set({ usedAt: now }).where(eq(setupTokens.tokenHash, row.tokenHash));
    await insertUser(ctx.db, { id: crypto.randomUUID(), email, role: "owner", passwordHash, createdAt: now });
    await appendAuditEvents(
      ctx.db,
      [{ kind: "admin", action: "owner.setup", actor: email, detail: { after: { email, role: "owner" } } }],
      now,
    );
  });
  return { email };
}
