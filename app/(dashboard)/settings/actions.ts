"use server";
// Server actions of the Settings page. Each is a public POST endpoint: the service checks the role.
import { revalidatePath } from "next/cache";
import { redirect } from "next/navigation";
import { toActionResult, type ActionResult } from "@/app/action-result";
import { currentUser } from "@/app/_auth/dal";
import { createApiKey } from "@/lib/services/api-keys/create-api-key";
import { revokeApiKey } from "@/lib/services/api-keys/revoke-api-key";
import { serviceContext } from "@/lib/services/context";
import { addUser } from "@/lib/services/users/add-user";
import { removeUser } from "@/lib/services/users/remove-user";
import { setUserPassword } from "@/lib/services/users/set-user-password";
import { setUserRole } from "@/lib/services/users/set-user-role";
import { unlockUser } from "@/lib/services/users/unlock-user";

// addUserAction — owner
export async function addUserAction(_prev: ActionResult, form: FormData): Promise<ActionResult> {
  const actor = await currentUser();
  const result = await toActionResult(async () => {
    await addUser({
      ctx: serviceContext(),
      actor,
      input: { email: form.get("email"), role: form.get("role"), password: form.get("password") },
    });
  }, "User added.");
  if (result?.ok) revalidatePath("/settings");
  return result;
}

// createApiKeyAction — owner; the key is returned once, to this response only
export async function createApiKeyAction(
  _prev: ActionResult<{ key: string; name: string }>,
  form: FormData,
): Promise<ActionResult<{ key: string; name: string }>> {
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
  const result = await toActionResult(
    () => revokeApiKey({ ctx: serviceContext(), actor, input: { id: String(form.get("id") ?? "") } }),
    "API key revoked.",
  );
  if (result?.ok) revalidatePath("/settings");
  return result;
}

// unlockUserAction — owner; lifts a sign-in lock before its 15 minutes are up
export async function unlockUserAction(_prev: ActionResult, form: FormData): Promise<ActionResult> {
  const actor = await currentUser();
  const result = await toActionResult(
    () => void unlockUser({ ctx: serviceContext(), actor, input: { email: form.get("email") } }),
    "User unlocked.",
  );
  if (result?.ok) revalidatePath("/settings");
  return result;
}

// setUserRoleAction — owner; never demotes the last Owner (the service refuses, audited on success)
export async function setUserRoleAction(_prev: ActionResult, form: FormData): Promise<ActionResult> {
  const actor = await currentUser();
  const result = await toActionResult(
    () => setUserRole({ ctx: serviceContext(), actor, input: { email: form.get("email"), role: form.get("role") } }),
    "Role changed. Their sessions ended; the new role applies at their next sign-in.",
  );
  if (result?.ok) revalidatePath("/settings");
  return result;
}

// setUserPasswordAction — owner; ends the user's sessions
export async function setUserPasswordAction(_prev: ActionResult, form: FormData): Promise<ActionResult> {
  const actor = await currentUser();
  const result = await toActionResult(
    () => setUserPassword({ ctx: serviceContext(), actor, input: { email: form.get("email"), password: form.get("password") } }),
    "Password reset. Share it out of band; their sessions ended.",
  );
  if (result?.ok) revalidatePath("/settings");
  return result;
}

// removeUserAction — owner; never the last Owner
export async function removeUserAction(_prev: ActionResult, form: FormData): Promise<ActionResult> {
  const actor = await currentUser();
  const email = String(form.get("email") ?? "");
  const result = await toActionResult(() => removeUser({ ctx: serviceContext(), actor, input: { email } }), "User removed.");
  if (!result?.ok) return result;
  revalidatePath("/settings");
  // The user's row and panel are gone: say so on the page they land on.
  redirect(`/settings?removed=${encodeURIComponent(email)}`);
}
