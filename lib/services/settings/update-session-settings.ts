import { z } from "zod";
import { readSessionSettings, writeSessionSettings } from "../../../db/queries/sessions";
import { writeTransaction } from "../../../db/tx";
import { appendAuditEvents } from "../../audit";
import { actorLabel, type Actor } from "../../auth/permissions";
import { AppError } from "../../errors";
import { authorize } from "../authorize";
import type { ServiceContext } from "../context";
import { firstIssue } from "../validation";

const Input = z.object({
  idleTimeoutMinutes: z.coerce
    .number("must be a number")
    .int("must be whole minutes")
    .min(1, "must be at least 1 minute")
    .max(24 * 60, "must be at most 24 hours"),
  maxLifetimeHours: z.coerce
    .number("must be a number")
    .int("must be whole hours")
    .min(1, "must be at least 1 hour")
    .max(24 * 30, "must be at most 30 days"),
});

/** Applies to sessions granted from now on; live sessions keep the timeout they were granted with. */
export function updateSessionSettings({ ctx, actor, input }: { ctx: ServiceContext; actor: Actor | null; input: unknown }): void {
  authorize(actor, "settings.write");
  const parsed = Input.safeParse(input);
  if (!parsed.success) throw firstIssue(parsed.error);
  const next = { idleTimeoutSeconds: parsed.data.idleTimeoutMinutes * 60, maxLifetimeSeconds: parsed.data.maxLifetimeHours * 3600 };
  if (next.idleTimeoutSeconds > next.maxLifetimeSeconds)
    throw new AppError("invalid_field", "idleTimeoutMinutes: cannot exceed the maximum lifetime", { field: "idleTimeoutMinutes" });
  writeTransaction(ctx.db, () => {
    const before = readSessionSettings(ctx.db);
    writeSessionSettings(ctx.db, next);
    appendAuditEvents(
      ctx.db,
      [{ kind: "admin", action: "session_settings.changed", actor: actorLabel(actor), detail: { before, after: next } }],
      ctx.now(),
    );
  });
}
