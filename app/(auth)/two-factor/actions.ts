"use server";
// Server actions of the two-factor set-up page: each acts on the caller's own account only.
import { toActionResult, type ActionResult } from "@/app/action-result";
import { currentUser } from "@/app/_auth/dal";
import { serviceContext } from "@/lib/services/context";
import { beginTotpEnrolment, confirmTotpEnrolment } from "@/lib/services/totp/enrol-totp";

// beginTotpAction — signed-in local account; the secret goes back once, for the QR code
export async function beginTotpAction(
  _prev: ActionResult<{ qrDataUrl: string; secret: string }>,
): Promise<ActionResult<{ qrDataUrl: string; secret: string }>> {
  const actor = await currentUser();
  return toActionResult(async () => {
    const { qrDataUrl, secret } = await beginTotpEnrolment({ ctx: serviceContext(), actor });
    return { qrDataUrl, secret };
  });
}

// confirmTotpAction — signed-in local account; the recovery codes go back this once
export async function confirmTotpAction(
  _prev: ActionResult<{ recoveryCodes: string[] }>,
  form: FormData,
): Promise<ActionResult<{ recoveryCodes: string[] }>> {
  const actor = await currentUser();
  return toActionResult(() => confirmTotpEnrolment({ ctx: serviceContext(), actor, input: { code: form.get("code") } }));
}
