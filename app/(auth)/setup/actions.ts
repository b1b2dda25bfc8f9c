"use server";
// completeSetupAction — public, but only with a valid one-time setup link
import { redirect } from "next/navigation";
import { toActionResult, type ActionResult } from "@/app/action-result";
import { serviceContext } from "@/lib/services/context";
import { completeSetup } from "@/lib/services/setup/complete-setup";

export async function completeSetupAction(_prev: ActionResult, form: FormData): Promise<ActionResult> {
  const result = await toActionResult(async () => {
    await completeSetup({ ctx: serviceContext(), input: { token: form.get("token"), email: form.get("email"), password: form.get("password") } });
  });
  if (!result?.ok) return result;
  redirect("/signin?setup=done");
}
