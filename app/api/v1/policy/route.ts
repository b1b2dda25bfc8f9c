// GET /api/v1/policy — owner, auditor · PUT /api/v1/policy[?dryRun=1] — owner
import YAML from "yaml";
import { authorize } from "@/lib/services/authorize";
import { getPolicy } from "@/lib/services/policy/get-policy";
import { parsePolicyText } from "@/lib/services/policy/parse-policy-text";
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
  const document = parsePolicyText(await readBody(req), req.headers.get("content-type"));
  const dryRun = ["1", "true"].includes(new URL(req.url).searchParams.get("dryRun") ?? "");
  const result = await putPolicy({ ctx, actor, input: document, dryRun });
  return Response.json({ dryRun: result.dryRun, applied: result.applied, diff: result.diff });
});
