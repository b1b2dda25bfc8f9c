import { listSessions as rows } from "../../../db/queries/sessions";
import type { Actor } from "../../auth/permissions";
import { sessionState, type SessionState } from "../../sessions/state";
import { authorize } from "../authorize";
import type { ServiceContext } from "../context";

export type SessionSummary = Awaited<ReturnType<typeof rows>>[number] & { state: SessionState };

export async function listSessions({
  ctx,
  actor,
  limit = 200,
}: {
  ctx: ServiceContext;
  actor: Actor | null;
  limit?: number;
}): Promise<SessionSummary[]> {
  authorize(actor, "session.read");
  const now = ctx.now();
  return (await rows(ctx.db, limit)).map((s) => ({ ...s, state: sessionState(s, now) }));
}
