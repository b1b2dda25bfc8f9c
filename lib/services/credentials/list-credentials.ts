import { listCredentialMeta, type CredentialMeta } from "../../../db/queries/policy";
import type { Actor } from "../../auth/permissions";
import { authorize } from "../authorize";
import type { ServiceContext } from "../context";

/** "Set by X on DATE", the fingerprint and last use: never the value. */
export function listCredentials({ ctx, actor }: { ctx: ServiceContext; actor: Actor | null }): Map<string, CredentialMeta> {
  authorize(actor, "policy.read");
  return new Map(listCredentialMeta(ctx.db).map((c) => [c.identity, c]));
}
