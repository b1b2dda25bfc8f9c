import { z } from "zod";
import { findSession } from "../../../db/queries/sessions";
import type { Actor } from "../../auth/permissions";
import { AppError, invalid } from "../../errors";
import { policyCache } from "../../policy-cache";
import { channelEnabled, isTargetError, METHOD_OVERRIDE_HEADERS, parseAbsoluteTarget, type Explanation } from "../../policy";
import { authorize } from "../authorize";
import type { ServiceContext } from "../context";
import { firstIssue } from "../validation";

const Input = z.object({
  channel: z.union([z.string(), z.object({ workspace: z.string().min(1), channel: z.string().min(1) })]).optional(),
  workspace: z.string().optional(),
  session: z.string().optional(),
  method: z
    .string()
    .trim()
    .regex(/^[A-Za-z]{1,16}$/, "is not an HTTP method")
    .default("GET"),
  url: z.string().min(1, "is required"),
  headers: z.record(z.string(), z.string()).optional(),
});

export type ExplainResult = Explanation & {
  request: { method: string; scheme: string; host: string; port: number; path: string; workspace: string; channel: string };
  channelEnabled: boolean;
};

/** The outcome a request would get now, the rule that decided it and every rule considered. */
export async function explainRequest({
  ctx,
  actor,
  input,
}: {
  ctx: ServiceContext;
  actor: Actor | null;
  input: unknown;
}): Promise<ExplainResult> {
  authorize(actor, "policy.read");
  const parsed = Input.safeParse(input);
  if (!parsed.success) throw firstIssue(parsed.error);
  const { method, url, session, headers } = parsed.data;
  let workspace: string;
  let channel: string;
  if (session) {
    const row = await findSession(ctx.db, session);
    if (!row) throw new AppError("not_found", `no session ${session}`, { field: "session" });
    ({ workspace, channel } = row);
  } else if (typeof parsed.data.channel === "object") {
    ({ workspace, channel } = parsed.data.channel);
  } else if (parsed.data.channel) {
    const [a, b] = parsed.data.channel.split("/");
    if (b) [workspace, channel] = [a!, b];
    else if (parsed.data.workspace) [workspace, channel] = [parsed.data.workspace, a!];
    else throw invalid("channel", 'give "WORKSPACE/CHANNEL" or a separate "workspace"');
  } else {
    throw invalid("channel", 'give "channel" ("WORKSPACE/CHANNEL") or "session"');
  }
  const target = parseAbsoluteTarget(url);
  if (isTargetError(target)) throw invalid("url", target.message);
  const lower = Object.fromEntries(Object.entries(headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
  const request = {
    method: method.toUpperCase(),
    scheme: target.scheme,
    host: target.host,
    port: target.port,
    path: target.path,
    methodOverride: METHOD_OVERRIDE_HEADERS.some((h) => h in lower),
  };
  // load(): on PostgreSQL current() serves only what a load already compiled.
  const compiled = await policyCache(ctx.db).load();
  const explanation = compiled.explain(workspace, channel, request);
  return {
    ...explanation,
    request: { ...request, workspace, channel },
    channelEnabled: channelEnabled(compiled.document, workspace, channel),
  };
}
