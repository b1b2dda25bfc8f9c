import { listCredentialMeta, type CredentialMeta } from "../../../db/queries/policy";
import type { Actor } from "../../auth/permissions";
import { authorize } from "../authorize";
import type { ServiceContext } from "../context";

/** "Set by X on DATE", the fingerprint and last use: never the value. */
export async function listCredentials({ ctx, actor }: { ctx: ServiceContext; actor: Actor | null }): Promise<Map<string, CredentialMeta>> {
  authorize(actor, "policy.read");
  return new Map((await listCredentialMeta(ctx.db)).map((c) => [c.identity, c]));
}
