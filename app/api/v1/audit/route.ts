// GET /api/v1/audit — owner, auditor
import { searchAudit } from "@/lib/services/audit/search-audit";
import { apiRoute } from "../handler";

export const dynamic = "force-dynamic";

export const GET = apiRoute(async ({ req, actor, ctx }) => {
  const params = Object.fromEntries(new URL(req.url).searchParams);
  const result = await searchAudit({ ctx, actor, input: params });
  return Response.json({ events: result.events.map((e) => ({ ...e, ts: new Date(e.ts).toISOString() })), nextCursor: result.nextCursor });
});
