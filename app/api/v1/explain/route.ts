// POST /api/v1/explain — owner, auditor
import { explainRequest } from "@/lib/services/policy/explain-request";
import { apiRoute, readJson } from "../handler";

export const dynamic = "force-dynamic";

export const POST = apiRoute(async ({ req, actor, ctx }) => {
  const result = explainRequest({ ctx, actor, input: await readJson(req) });
  return Response.json({
    outcome: result.decision.outcome,
    rule: result.decision.rule,
    reason: result.decision.reason,
    connection: result.decision.connection
      ? {
          bundle: result.decision.connection.bundle,
          name: result.decision.connection.name,
          serviceAccount: result.decision.connection.serviceAccount,
        }
      : null,
    request: result.request,
    channelEnabled: result.channelEnabled,
    considered: result.considered,
  });
});
