import { findApiKeyByHash, touchApiKey } from "../../../db/queries/api-keys";
import type { Actor } from "../../auth/permissions";
import { tokenHash } from "../../auth/tokens";
import type { ServiceContext } from "../context";

/** `Authorization: Bearer <key>` → the key's actor, or null. Revoked keys fail at once. */
export async function authenticateApiKey({ ctx, header }: { ctx: ServiceContext; header: string | null }): Promise<Actor | null> {
  const m = /^Bearer\s+(\S+)$/i.exec(header ?? "");
  if (!m) return null;
  const row = await findApiKeyByHash(ctx.db, tokenHash(m[1]!));
  if (!row || row.revokedAt) return null;
  const now = ctx.now();
  // last_used to the minute: no write per request.
  if (!row.lastUsedAt || now - row.lastUsedAt > 60_000) await touchApiKey(ctx.db, row.id, now);
  return { type: "apikey", id: row.id, name: row.name, role: row.role };
}
