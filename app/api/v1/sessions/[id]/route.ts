// DELETE /api/v1/sessions/{id} — orchestrator, owner
import { revokeSession } from "@/lib/services/sessions/revoke-session";
import { apiRoute } from "../../handler";

export const dynamic = "force-dynamic";

export const DELETE = apiRoute<{ id: string }>(async ({ actor, ctx, params }) => {
  await revokeSession({ ctx, actor, input: { id: params.id } });
  return new Response(null, { status: 204 });
});
