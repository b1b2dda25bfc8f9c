import crypto from "node:crypto";
import { z } from "zod";
import { insertApiKey } from "../../../db/queries/api-keys";
import { writeTransaction } from "../../../db/tx";
import { appendAuditEvents } from "../../audit";
import { actorLabel, type Actor } from "../../auth/permissions";
import { newSecretToken, tokenHash } from "../../auth/tokens";
import { authorize } from "../authorize";
import type { ServiceContext } from "../context";
import { firstIssue } from "../validation";

export const CreateApiKeyInput = z.object({
  name: z.string().trim().min(1, "is required").max(64, "is at most 64 characters"),
  role: z.enum(["owner", "auditor", "orchestrator"], "must be owner, auditor or orchestrator"),
});

export type CreatedApiKey = { id: string; name: string; role: "owner" | "auditor" | "orchestrator"; prefix: string; key: string };

/** Returns the key once; only its SHA-256 is stored. */
export function createApiKey({ ctx, actor, input }: { ctx: ServiceContext; actor: Actor | null; input: unknown }): CreatedApiKey {
  authorize(actor, "apikey.write");
  const parsed = CreateApiKeyInput.safeParse(input);
  if (!parsed.success) throw firstIssue(parsed.error);
  const { name, role } = parsed.data;
  const key = newSecretToken("gk");
  const id = crypto.randomUUID();
  const prefix = key.slice(0, 7);
  const now = ctx.now();
  writeTransaction(ctx.db, () => {
    insertApiKey(ctx.db, { id, name, role, keyHash: tokenHash(key), prefix, createdBy: actorLabel(actor), createdAt: now });
    appendAuditEvents(
      ctx.db,
      [{ kind: "admin", action: "apikey.created", actor: actorLabel(actor), detail: { after: { id, name, role, prefix } } }],
      now,
    );
  });
  return { id, name, role, prefix, key };
}
