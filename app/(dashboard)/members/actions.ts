"use server";
import { revalidatePath } from "next/cache";
import { toActionResult, type ActionResult } from "@/app/action-result";
import { currentUser } from "@/app/_auth/dal";
import { serviceContext } from "@/lib/services/context";
import { updateMemberAccess } from "@/lib/services/settings/update-member-access";
import { updateSessionSettings } from "@/lib/services/settings/update-session-settings";

// updateMemberAccessAction — owner
export async function updateMemberAccessAction(_prev: ActionResult, form: FormData): Promise<ActionResult> {
  const actor = await currentUser();
  const result = await toActionResult(
    () =>
      updateMemberAccess({
        ctx: serviceContext(),
        actor,
        input: {
          mode: form.get("mode"),
          roles: String(form.get("roles") ?? ""),
          directMessages: form.get("directMessages") === "on" ? "enabled" : "disabled",
        },
      }),
    "Member access saved.",
  );
  if (result?.ok) revalidatePath("/members");
  return result;
}

// updateSessionSettingsAction — owner
export async function updateSessionSettingsAction(_prev: ActionResult, form: FormData): Promise<ActionResult> {
  const actor = await currentUser();
  const result = await toActionResult(
    () =>
      updateSessionSettings({
        ctx: serviceContext(),
        actor,
        input: { idleTimeoutMinutes: form.get("idleTimeoutMinutes"), maxLifetimeHours: form.get("maxLifetimeHours") },
      }),
    "Session limits saved.",
  );
  if (result?.ok) revalidatePath("/members");
  return result;
}
