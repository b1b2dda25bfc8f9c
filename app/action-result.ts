// How server actions report back to forms: field errors by name, a message, or success data.
import type { ActionResult } from "@/components/action-result";
import { AppError } from "@/lib/errors";
import { logger } from "@/lib/log";

export type { ActionResult };

export async function toActionResult<T>(fn: () => Promise<T> | T, message?: string): Promise<ActionResult<T>> {
  try {
    const data = await fn();
    return { ok: true, data, message };
  } catch (err) {
    // The API keeps the permission name; a person reading the dashboard gets a plain sentence.
    if (err instanceof AppError && err.code === "forbidden")
      return { ok: false, error: "Auditors have read-only access; ask an Owner.", fields: {} };
    if (err instanceof AppError) {
      const fields = Object.fromEntries(
        (err.fields ?? (err.field ? [{ field: err.field, message: err.message.replace(/^[^:]+: /, "") }] : [])).map((f) => [
          f.field,
          f.message,
        ]),
      );
      return { ok: false, error: err.message, fields };
    }
    logger("dashboard").error(`server action failed: ${err instanceof Error ? err.message : "unknown error"}`);
    return { ok: false, error: "Something went wrong; nothing was changed." };
  }
}
