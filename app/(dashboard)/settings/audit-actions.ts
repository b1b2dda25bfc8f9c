"use server";
// Server actions of Settings' "Audit streaming" and "Audit retention" cards. Each is a public POST
// endpoint: the service checks the role.
import { revalidatePath } from "next/cache";
import { toActionResult, type ActionResult } from "@/app/action-result";
import { currentUser } from "@/app/_auth/dal";
import { serviceContext } from "@/lib/services/context";
import { runRetention, setRetention } from "@/lib/services/audit/retention";
import { addSink } from "@/lib/services/sinks/add-sink";
import { removeSink } from "@/lib/services/sinks/remove-sink";
import { testSink } from "@/lib/services/sinks/test-sink";
import { AppError } from "@/lib/errors";

// addSinkAction — owner; the webhook's signing secret is write-only
export async function addSinkAction(_prev: ActionResult, form: FormData): Promise<ActionResult> {
  const actor = await currentUser();
  const field = (name: string) => String(form.get(name) ?? "");
  const result = await toActionResult(
    async () =>
      void (await addSink({
        ctx: serviceContext(),
        actor,
        input: {
          name: field("name"),
          type: field("type"),
          format: field("format"),
          url: field("url"),
          secret: field("secret"),
          startAt: field("startAt") || undefined,
        },
      })),
    "Sink added; delivery starts within a second.",
  );
  if (result?.ok) revalidatePath("/settings");
  return result;
}

// removeSinkAction — owner
export async function removeSinkAction(_prev: ActionResult, form: FormData): Promise<ActionResult> {
  const actor = await currentUser();
  const result = await toActionResult(
    async () => void (await removeSink({ ctx: serviceContext(), actor, input: { sink: String(form.get("id") ?? "") } })),
    "Sink removed.",
  );
  if (result?.ok) revalidatePath("/settings");
  return result;
}

// testSinkAction — owner; sends one test event outside the chain
export async function testSinkAction(_prev: ActionResult, form: FormData): Promise<ActionResult> {
  const actor = await currentUser();
  return toActionResult(async () => {
    const r = await testSink({ ctx: serviceContext(), actor, input: { sink: String(form.get("id") ?? "") } });
    if (!r.ok) throw new AppError("conflict", `The test event was not delivered: ${r.error}.`);
  }, "The test event was delivered.");
}

// setRetentionAction — owner; empty keeps everything
export async function setRetentionAction(_prev: ActionResult, form: FormData): Promise<ActionResult> {
  const actor = await currentUser();
  const result = await toActionResult(async () => {
    const r = await setRetention({ ctx: serviceContext(), actor, input: { days: String(form.get("days") ?? "") } });
    return void r;
  }, "Audit retention saved.");
  if (result?.ok) revalidatePath("/settings");
  return result;
}

// runRetentionAction — owner; archives now what the retention says is old
export async function runRetentionAction(_prev: ActionResult): Promise<ActionResult> {
  const actor = await currentUser();
  let message = "";
  const result = await toActionResult(async () => {
    const r = await runRetention({ ctx: serviceContext(), actor });
    message = r
      ? `Archived ${r.events} event(s) into ${r.segments.length} segment(s)${r.heldForSinks ? "; older events stay live until every sink has them" : ""}.`
      : "No retention is set; nothing was archived.";
  });
  if (result?.ok) {
    revalidatePath("/settings");
    return { ...result, message };
  }
  return result;
}
