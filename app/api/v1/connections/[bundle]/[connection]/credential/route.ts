// PUT|DELETE /api/v1/connections/{bundle}/{connection}/credential — owner. Nothing reads a credential back.
import { AppError } from "@/lib/errors";
import { revokeCredential } from "@/lib/services/credentials/revoke-credential";
import { setCredential } from "@/lib/services/credentials/set-credential";
import { apiRoute, readJson } from "../../../../handler";

export const dynamic = "force-dynamic";

type Params = { bundle: string; connection: string };

export const PUT = apiRoute<Params>(async ({ req, actor, ctx, params }) => {
  const body = await readJson(req);
  if (typeof body !== "object" || body === null || !("secret" in body))
    throw new AppError("invalid_field", "secret: is required", { field: "secret" });
  setCredential({
    ctx,
    actor,
    input: { bundle: params.bundle, connection: params.connection, secret: (body as { secret: unknown }).secret },
  });
  return new Response(null, { status: 204 });
});

export const DELETE = apiRoute<Params>(({ actor, ctx, params }) => {
  revokeCredential({ ctx, actor, input: { bundle: params.bundle, connection: params.connection } });
  return new Response(null, { status: 204 });
});
