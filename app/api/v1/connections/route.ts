// GET /api/v1/connections — owner, auditor: every connection, its credential's metadata (the
// fingerprint, never the value) and health from the upstream's recent answers.
import { listConnectionHealth } from "@/lib/services/credentials/credential-health";
import { apiRoute } from "../handler";

export const dynamic = "force-dynamic";

export const GET = apiRoute(async ({ actor, ctx }) => Response.json({ connections: await listConnectionHealth({ ctx, actor }) }));
