import { findSession, markSessionRevoked } from "../../../db/queries/sessions";
import { writeTransaction } from "../../../db/tx";
import { appendAuditEvents } from "../../audit";
import { actorLabel, type Actor } from "../../auth/permissions";
import { AppError } from "../../errors";
import { authorize } from "../authorize";
import type { ServiceContext } from "../context";

/** Revokes a session: its token fails on its next use, and the proxy closes its open connections. */
export function revokeSession({ ctx, actor, input }: { ctx: ServiceContext; actor: Actor | null; input: { id: string } }): void {
  authorize(actor, "session.revoke");
  const now = ctx.now();
  writeTransaction(ctx.db, () => {
    const session = findSession(ctx.db, input.id);
    if (!session) throw new AppError("not_found", `no session ${input.id}`);
    if (!markSessionRevoked(ctx.db, session.id, now, actorLabel(actor))) return;
    appendAuditEvents(
      ctx.db,
      [
        {
          kind: "access",
          action: "session.revoked",
          actor: actorLabel(actor),
          sessionId: session.id,
          workspace: session.workspace,
          channel: session.channel,
          thread: session.thread,
          member: session.memberId,
          outcome: "revoked",
        },
      ],
      now,
    );
  });
}
