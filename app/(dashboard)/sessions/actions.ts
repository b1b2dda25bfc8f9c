"use server";
import { revalidatePath } from "next/cache";
import { toActionResult, type ActionResult } from "@/app/action-result";
import { currentUser } from "@/app/_auth/dal";
import { serviceContext } from "@/lib/services/context";
import { revokeSession } from "@/lib/services/sessions/revoke-session";

// revokeSessionAction — owner
export async function revokeSessionAction(_prev: ActionResult, form: FormData): Promise<ActionResult> {
  const actor = await currentUser();
  const result = await toActionResult(
    () => revokeSession({ ctx: serviceContext(), actor, input: { id: String(form.get("id") ?? "") } }),
    "Session revoked.",
  );
  if (result?.ok) revalidatePath("/sessions");
  return result;
}
