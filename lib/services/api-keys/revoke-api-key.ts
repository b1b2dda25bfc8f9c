import { findApiKey, markApiKeyRevoked } from "../../../db/queries/api-keys";
import { writeTransaction } from "../../../db/tx";
import { appendAuditEvents } from "../../audit";
import { actorLabel, type Actor } from "../../auth/permissions";
import { AppError } from "../../errors";
import { authorize } from "../authorize";
import type { ServiceContext } from "../context";

export function revokeApiKey({ ctx, actor, input }: { ctx: ServiceContext; actor: Actor | null; input: { id: string } }): void {
  authorize(actor, "apikey.write");
  const id = String(input.id ?? "");
  if (!id) throw new AppError("not_found", "no such API key");
  const now = ctx.now();
  writeTransaction(ctx.db, () => {
    const key = findApiKey(ctx.db, id);
    if (!key) throw new AppError("not_found", "no such API key");
    if (key.revokedAt) return;
    markApiKeyRevoked(ctx.db, id, now);
    appendAuditEvents(
      ctx.db,
      [{ kind: "admin", action: "apikey.revoked", actor: actorLabel(actor), detail: { before: { id, name: key.name, role: key.role } } }],
      now,
    );
  });
}
