// POST /api/v1/sessions — orchestrator, owner
import { createSession } from "@/lib/services/sessions/create-session";
import { apiRoute, readJson } from "../handler";

export const dynamic = "force-dynamic";

export const POST = apiRoute(async ({ req, actor, ctx }) => {
  const session = await createSession({ ctx, actor, input: await readJson(req) });
  return Response.json(session, { status: 201, headers: { "Cache-Control": "no-store" } });
});
