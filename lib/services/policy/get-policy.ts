import { readPolicyDocument } from "../../../db/queries/policy";
import type { Actor } from "../../auth/permissions";
import type { PolicyDocument } from "../../policy";
import { authorize } from "../authorize";
import type { ServiceContext } from "../context";

/** The whole policy document. It holds no secrets by construction: credentials live elsewhere. */
export async function getPolicy({ ctx, actor }: { ctx: ServiceContext; actor: Actor | null }): Promise<PolicyDocument> {
  authorize(actor, "policy.read");
  return await readPolicyDocument(ctx.db);
}
