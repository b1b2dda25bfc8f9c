"use server";
// Server actions for time-bound grants and report-only windows. Each is a public POST endpoint:
// the verb it calls checks the caller's permission first.
import { revalidatePath } from "next/cache";
import { toActionResult, type ActionResult } from "@/app/action-result";
import { currentUser } from "@/app/_auth/dal";
import { serviceContext } from "@/lib/services/context";
import { extendGrant } from "@/lib/services/grants/extend-grant";
import { grantHost, type GrantTarget } from "@/lib/services/grants/grant-host";
import { endReportOnly, setReportOnly } from "@/lib/services/grants/report-only";
import { revokeGrant } from "@/lib/services/grants/revoke-grant";

const str = (form: FormData, key: string) => String(form.get(key) ?? "").trim();

function refresh(bundle?: string) {
  for (const p of ["/", "/bundles", "/channels", "/grants", "/audit"]) revalidatePath(p);
  if (bundle) revalidatePath(`/bundles/${encodeURIComponent(bundle)}`);
  revalidatePath("/", "layout");
}

function targetOf(form: FormData): GrantTarget {
  const to = str(form, "to");
  if (to === "bundle") return { bundle: str(form, "bundle") };
  const workspace = str(form, "workspace");
  return to === "workspace" ? { workspace } : { workspace, channel: str(form, "channel") };
}

// grantHostAction — owner
export async function grantHostAction(_prev: ActionResult, form: FormData): Promise<ActionResult> {
  const actor = await currentUser();
  const result = await toActionResult(async () => {
    const g = await grantHost({
      ctx: serviceContext(),
      actor,
      input: { target: targetOf(form), pattern: str(form, "pattern"), duration: str(form, "duration"), until: str(form, "until") },
    });
    return void g;
  }, "Granted.");
  if (result?.ok) refresh(str(form, "bundle") || undefined);
  return result;
}

// extendGrantAction — owner
export async function extendGrantAction(_prev: ActionResult, form: FormData): Promise<ActionResult> {
  const actor = await currentUser();
  const bundle = str(form, "bundle");
  const kind = str(form, "kind") === "connection" ? "connection" : "domain";
  const result = await toActionResult(
    async () =>
      void (await extendGrant({
        ctx: serviceContext(),
        actor,
        input: { bundle, kind, name: str(form, "name"), duration: str(form, "duration"), until: str(form, "until") },
      })),
    "Grant extended.",
  );
  if (result?.ok) refresh(bundle);
  return result;
}

// revokeGrantAction — owner
export async function revokeGrantAction(_prev: ActionResult, form: FormData): Promise<ActionResult> {
  const actor = await currentUser();
  const bundle = str(form, "bundle");
  const kind = str(form, "kind") === "connection" ? "connection" : "domain";
  const result = await toActionResult(
    () => revokeGrant({ ctx: serviceContext(), actor, input: { bundle, kind, name: str(form, "name") } }),
    "Grant revoked.",
  );
  if (result?.ok) refresh(bundle);
  return result;
}

// setReportOnlyAction — owner
export async function setReportOnlyAction(_prev: ActionResult, form: FormData): Promise<ActionResult> {
  const actor = await currentUser();
  const result = await toActionResult(
    async () =>
      void (await setReportOnly({
        ctx: serviceContext(),
        actor,
        input: {
          workspace: str(form, "workspace"),
          channel: str(form, "channel"),
          duration: str(form, "duration"),
          until: str(form, "until"),
        },
      })),
    "Report-only mode is on.",
  );
  if (result?.ok) refresh();
  return result;
}

// endReportOnlyAction — owner
export async function endReportOnlyAction(_prev: ActionResult, form: FormData): Promise<ActionResult> {
  const actor = await currentUser();
  const result = await toActionResult(
    () => endReportOnly({ ctx: serviceContext(), actor, input: { workspace: str(form, "workspace"), channel: str(form, "channel") } }),
    "Report-only mode ended.",
  );
  if (result?.ok) refresh();
  return result;
}
