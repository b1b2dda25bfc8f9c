"use server";
// completeSetupAction — public, but only with a valid one-time setup link
import { redirect } from "next/navigation";
import { toActionResult, type ActionResult } from "@/app/action-result";
import { serviceContext } from "@/lib/services/context";
import { completeSetup } from "@/lib/services/setup/complete-setup";
import { setupDone } from "@/lib/services/setup/create-setup-link";

export async function completeSetupAction(_prev: ActionResult, form: FormData): Promise<ActionResult> {
  const result = await toActionResult(async () => {
    await completeSetup({
      ctx: serviceContext(),
      input: { token: form.get("token"), email: form.get("email"), password: form.get("password") },
    });
  });
  // Someone finished setup first: the setup page then links to sign-in instead of a restart.
  if (!result?.ok) return setupDone(serviceContext()) ? redirect("/setup") : result;
  redirect("/signin?setup=done");
}
