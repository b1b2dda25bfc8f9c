// GET /api/v1/policy — owner, auditor · PUT /api/v1/policy[?dryRun=1] — owner
import YAML from "yaml";
import { authorize } from "@/lib/services/authorize";
import { getPolicy } from "@/lib/services/policy/get-policy";
import { parsePolicyText } from "@/lib/services/policy/parse-policy-text";
import { previewPolicyImpact, windowDaysInput } from "@/lib/services/policy/preview-impact";
import { putPolicy } from "@/lib/services/policy/put-policy";
import { apiRoute, readBody } from "../handler";

export const dynamic = "force-dynamic";

export const GET = apiRoute(async ({ req, actor, ctx }) => {
  const policy = await getPolicy({ ctx, actor });
  const wantsYaml = /yaml/.test(req.headers.get("accept") ?? "") || new URL(req.url).searchParams.get("format") === "yaml";
  if (wantsYaml) return new Response(YAML.stringify(policy), { headers: { "Content-Type": "application/yaml; charset=utf-8" } });
  return Response.json(policy);
});

export const PUT = apiRoute(async ({ req, actor, ctx }) => {
  // The role is checked before a byte of the body is read or parsed.
  authorize(actor, "policy.write");
  const params = new URL(req.url).searchParams;
  const dryRun = ["1", "true"].includes(params.get("dryRun") ?? "");
  const windowDays = dryRun ? windowDaysInput(params.get("windowDays") ?? undefined) : undefined;
  const document = parsePolicyText(await readBody(req), req.headers.get("content-type"));
  const result = await putPolicy({ ctx, actor, input: document, dryRun });
  // A dry run also replays the logged requests of the window against the draft (section 5).
  const impact = dryRun ? await previewPolicyImpact({ ctx, actor, draft: result.policy, windowDays }) : undefined;
  return Response.json({ dryRun: result.dryRun, applied: result.applied, diff: result.diff, ...(impact ? { impact } : {}) });
});
