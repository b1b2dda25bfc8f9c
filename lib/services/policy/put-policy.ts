import { readPolicyDocument } from "../../../db/queries/policy";
import type { Actor } from "../../auth/permissions";
import { diffPolicy, type Change, type PolicyDocument } from "../../policy";
import { authorize } from "../authorize";
import type { ServiceContext } from "../context";
import { checkReportOnlyBounds } from "../grants/report-only";
import { applyPolicy, validateOrThrow } from "./apply-policy";

export type PutPolicyResult = { dryRun: boolean; applied: boolean; diff: Change[]; policy: PolicyDocument };

/** Replaces the whole policy with a document; all or nothing. With dryRun, only the diff. */
export async function putPolicy({
  ctx,
  actor,
  input,
  dryRun,
}: {
  ctx: ServiceContext;
  actor: Actor | null;
  input: unknown;
  dryRun: boolean;
}): Promise<PutPolicyResult> {
  authorize(actor, "policy.write");
  const next = validateOrThrow(input);
  checkReportOnlyBounds(next, ctx.now());
  if (dryRun) {
    const current = await readPolicyDocument(ctx.db);
    return { dryRun: true, applied: false, diff: diffPolicy(current, next), policy: next };
  }
  const { diff } = await applyPolicy({ ctx, actor, change: { action: "policy.imported" }, derive: () => next });
  return { dryRun: false, applied: diff.length > 0, diff, policy: next };
}
