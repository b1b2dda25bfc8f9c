"use server";
// Server actions of the Settings page. Each is a public POST endpoint: the service checks the role.
import { revalidatePath } from "next/cache";
import { toActionResult, type ActionResult } from "@/app/action-result";
import { currentUser } from "@/app/_auth/dal";
import { createApiKey } from "@/lib/services/api-keys/create-api-key";
import { revokeApiKey } from "@/lib/services/api-keys/revoke-api-key";
import { serviceContext } from "@/lib/services/context";
import { addUser } from "@/lib/services/users/add-user";
import { unlockUser } from "@/lib/services/users/unlock-user";

// addUserAction — owner
export async function addUserAction(_prev: ActionResult, form: FormData): Promise<ActionResult> {
  const actor = await currentUser();
  const result = await toActionResult(async () => {
    await addUser({ ctx: serviceContext(), actor, input: { email: form.get("email"), role: form.get("role"), password: form.get("password") } });
  }, "User added.");
  if (result?.ok) revalidatePath("/settings");
  return result;
}

// createApiKeyAction — owner; the key is returned once, to this response only
export async function createApiKeyAction(_prev: ActionResult<{ key: string; name: string }>, form: FormData): Promise<ActionResult<{ key: string; name: string }>> {
  const actor = await currentUser();
  const result = await toActionResult(() => {
    const created = createApiKey({ ctx: serviceContext(), actor, input: { name: form.get("name"), role: form.get("role") } });
    return { key: created.key, name: created.name };
  });
  if (result?.ok) revalidatePath("/settings");
  return result;
}

// revokeApiKeyAction — owner
export async function revokeApiKeyAction(_prev: ActionResult, form: FormData): Promise<ActionResult> {
  const actor = await currentUser();
  const result = await toActionResult(() => revokeApiKey({ ctx: serviceContext(), actor, input: { id: String(form.get("id") ?? "") } }), "API key revoked.");
  if (result?.ok) revalidatePath("/settings");
  return result;
}

// unlockUserAction — owner; lifts a sign-in lock before its 15 minutes are up
export async function unlockUserAction(_prev: ActionResult, form: FormData): Promise<ActionResult> {
  const actor = await currentUser();
  const result = await toActionResult(() => void unlockUser({ ctx: serviceContext(), actor, input: { email: form.get("email") } }), "User unlocked.");
  if (result?.ok) revalidatePath("/settings");
  return result;
}
