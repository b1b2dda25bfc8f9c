"use server";
// Server actions of Settings' "Sign-in" card. Each is a public POST endpoint: the service checks the role.
import { revalidatePath } from "next/cache";
import { toActionResult, type ActionResult } from "@/app/action-result";
import { currentUser } from "@/app/_auth/dal";
import { serviceContext } from "@/lib/services/context";
import { setPasswordSignIn } from "@/lib/services/sso/set-password-sign-in";
import { updateOidcSettings } from "@/lib/services/sso/update-oidc-settings";
import { setTotpRequired } from "@/lib/services/totp/set-totp-required";

// updateOidcSettingsAction — owner; the client secret is write-only (empty keeps the stored one)
export async function updateOidcSettingsAction(_prev: ActionResult, form: FormData): Promise<ActionResult> {
  const actor = await currentUser();
  const field = (name: string) => String(form.get(name) ?? "");
  const result = await toActionResult(
    () =>
      updateOidcSettings({
        ctx: serviceContext(),
        actor,
        input: {
          name: field("name"),
          issuer: field("issuer"),
          clientId: field("clientId"),
          clientSecret: field("clientSecret"),
          roleClaim: field("roleClaim"),
          ownerGroups: field("ownerGroups"),
          auditorGroups: field("auditorGroups"),
        },
      }),
    "Identity provider saved.",
  );
  if (result?.ok) revalidatePath("/settings");
  return result;
}

// setPasswordSignInAction — owner
export async function setPasswordSignInAction(_prev: ActionResult, form: FormData): Promise<ActionResult> {
  const actor = await currentUser();
  const enabled = form.get("enabled") === "true";
  const result = await toActionResult(
    () => void setPasswordSignIn({ ctx: serviceContext(), actor, input: { enabled } }),
    enabled ? "Password sign-in turned on." : "Password sign-in turned off.",
  );
  if (result?.ok) revalidatePath("/settings");
  return result;
}

// setTotpRequiredAction — owner
export async function setTotpRequiredAction(_prev: ActionResult, form: FormData): Promise<ActionResult> {
  const actor = await currentUser();
  const required = form.get("required") === "true";
  const result = await toActionResult(
    () => void setTotpRequired({ ctx: serviceContext(), actor, input: { required } }),
    required ? "Owners now need a second factor." : "Owners no longer need a second factor.",
  );
  if (result?.ok) revalidatePath("/settings");
  return result;
}
