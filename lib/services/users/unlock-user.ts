import { clearLimit } from "../../../db/queries/sign-in-limits";
import { writeTransaction } from "../../../db/tx";
import { appendAuditEvents } from "../../audit";
import { actorLabel, type Actor } from "../../auth/permissions";
import { authorize } from "../authorize";
import type { ServiceContext } from "../context";
import { firstIssue } from "../validation";
import { UserEmail, userByEmail } from "./find-user";

/** Lifts a sign-in lock at once (the lock also ends by itself after its 15 minutes). */
export function unlockUser({ ctx, actor, input }: { ctx: ServiceContext; actor: Actor | null; input: { email: unknown } }): {
  wasLocked: boolean;
} {
  authorize(actor, "user.write");
  const parsed = UserEmail.safeParse(input.email);
  if (!parsed.success) throw firstIssue(parsed.error);
  const email = parsed.data;
  const now = ctx.now();
  return writeTransaction(ctx.db, () => {
    userByEmail(ctx.db, email);
    const wasLocked = clearLimit(ctx.db, { scope: "account", subject: email });
    appendAuditEvents(ctx.db, [{ kind: "admin", action: "user.unlocked", actor: actorLabel(actor), detail: { after: { email } } }], now);
    return { wasLocked };
  });
}
