import type { Actor } from "../../auth/permissions";
import { AppError, invalid } from "../../errors";
import { REPORT_ONLY_MAX_MS, type PolicyDocument } from "../../policy";
import { authorize } from "../authorize";
import type { ServiceContext } from "../context";
import { applyPolicy } from "../policy/apply-policy";
import { clone, validateDerived } from "../policy/edit";
import { grantEnd } from "./grant-time";

export type ReportOnlyScope = { workspace: string; channel?: string };

const slackId = /^[A-Za-z0-9._-]{1,64}$/;

function scopeOf(input: { workspace?: unknown; channel?: unknown }): ReportOnlyScope {
  const workspace = String(input.workspace ?? "").trim();
  const channel = String(input.channel ?? "").trim();
  if (!slackId.test(workspace)) throw invalid("workspace", "is required: a workspace id such as T0ACME");
  if (channel && !slackId.test(channel)) throw invalid("channel", "is not a valid channel id");
  return channel ? { workspace, channel } : { workspace };
}

const same = (s: ReportOnlyScope) => (r: { workspace: string; channel?: string }) =>
  r.workspace === s.workspace && (r.channel ?? "") === (s.channel ?? "");

/** Windows may be at most 7 days ahead of the moment they are written (PUT /policy too). */
export function checkReportOnlyBounds(doc: PolicyDocument, now: number): void {
  doc.reportOnly?.forEach((r, i) => {
    if (Date.parse(r.until) > now + REPORT_ONLY_MAX_MS)
      throw new AppError("invalid_field", `reportOnly[${i}].until: is more than 7 days ahead; report-only is for a bounded rollout`, {
        field: `reportOnly[${i}].until`,
      });
  });
}

/** Puts a workspace or a channel in report-only mode until a bounded time (at most 7 days). */
export async function setReportOnly({
  ctx,
  actor,
  input,
}: {
  ctx: ServiceContext;
  actor: Actor | null;
  input: { workspace?: unknown; channel?: unknown; duration?: unknown; until?: unknown };
}): Promise<{ until: string }> {
  authorize(actor, "policy.write");
  const scope = scopeOf(input);
  const until = new Date(grantEnd(input, ctx.now(), { max: REPORT_ONLY_MAX_MS })).toISOString();
  let before: string | undefined;
  await applyPolicy({
    ctx,
    actor,
    change: {
      action: "report_only.enabled",
      get detail() {
        return { scope, ...(before ? { before: { until: before } } : {}), after: { until } };
      },
    },
    derive: (current) => {
      const next = clone(current);
      const list = next.reportOnly ?? [];
      before = list.find(same(scope))?.until;
      next.reportOnly = [...list.filter((r) => !same(scope)(r)), { ...scope, until }];
      return validateDerived(next);
    },
  });
  return { until };
}

/** Ends report-only mode for a workspace or a channel now. */
export async function endReportOnly({
  ctx,
  actor,
  input,
}: {
  ctx: ServiceContext;
  actor: Actor | null;
  input: { workspace?: unknown; channel?: unknown };
}): Promise<void> {
  authorize(actor, "policy.write");
  const scope = scopeOf(input);
  let before: string | undefined;
  await applyPolicy({
    ctx,
    actor,
    change: {
      action: "report_only.disabled",
      get detail() {
        return { scope, before: { until: before } };
      },
    },
    derive: (current) => {
      const next = clone(current);
      before = next.reportOnly?.find(same(scope))?.until;
      if (!before)
        throw new AppError(
          "not_found",
          `${scope.channel ? `channel ${scope.channel} in ` : "workspace "}${scope.workspace} is not in report-only mode`,
        );
      next.reportOnly = next.reportOnly!.filter((r) => !same(scope)(r));
      if (next.reportOnly.length === 0) delete next.reportOnly;
      return validateDerived(next);
    },
  });
}
