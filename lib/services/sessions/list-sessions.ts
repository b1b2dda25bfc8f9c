import { listSessions as rows } from "../../../db/queries/sessions";
import type { Actor } from "../../auth/permissions";
import { sessionState, type SessionState } from "../../sessions/state";
import { authorize } from "../authorize";
import type { ServiceContext } from "../context";

export type SessionSummary = ReturnType<typeof rows>[number] & { state: SessionState };

export function listSessions({ ctx, actor, limit = 200 }: { ctx: ServiceContext; actor: Actor | null; limit?: number }): SessionSummary[] {
  authorize(actor, "session.read");
  const now = ctx.now();
  return rows(ctx.db, limit).map((s) => ({ ...s, state: sessionState(s, now) }));
}
