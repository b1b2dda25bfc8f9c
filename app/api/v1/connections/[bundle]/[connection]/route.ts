// GET /api/v1/connections/{bundle}/{connection} — owner, auditor: one connection with its
// credential's metadata and health (see ../../route.ts).
import { AppError } from "@/lib/errors";
import { listConnectionHealth } from "@/lib/services/credentials/credential-health";
import { apiRoute } from "../../../handler";

export const dynamic = "force-dynamic";

type Params = { bundle: string; connection: string };

export const GET = apiRoute<Params>(async ({ actor, ctx, params }) => {
  const [found] = await listConnectionHealth({ ctx, actor, only: { bundle: params.bundle, connection: params.connection } });
  if (!found) throw new AppError("not_found", `no connection ${params.bundle}/${params.connection}`);
  return Response.json(found);
});
