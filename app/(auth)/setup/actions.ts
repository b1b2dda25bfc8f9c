"use server";
// POST (server action) completeSetupAction — public, but only with a valid one-time setup link
import { redirect } from "next/navigation";
import { AppError } from "@/lib/errors";
import { serviceContext } from "@/lib/services/context";
import { completeSetup } from "@/lib/services/setup/complete-setup";

export type SetupState = { error?: string; fields?: Record<string, string> };

export async function completeSetupAction(_prev: SetupState, form: FormData): Promise<SetupState> {
  try {
    await completeSetup({ ctx: serviceContext(), input: { token: form.get("token"), email: form.get("email"), password: form.get("password") } });
  } catch (err) {
    if (err instanceof AppError) return { error: err.message, fields: Object.fromEntries((err.fields ?? (err.field ? [{ field: err.field, message: err.message }] : [])).map((f) => [f.field, f.message])) };
    throw err;
  }
  redirect("/signin?setup=done");
}
