import { bumpPolicyRevision, findSealedCredential, upsertCredential } from "../../../db/queries/policy";
import { appendAuditEvents } from "../../audit";
import { actorLabel, type Actor } from "../../auth/permissions";
import { followKeyRotation } from "../../bootstrap";
import { AppError, invalid } from "../../errors";
import type { ServiceContext } from "../context";

export const MAX_SECRET_BYTES = 8192;

/** What a credential may be: it travels in an HTTP header, so no line breaks or control characters. */
export function checkSecret(secret: unknown): string {
  if (typeof secret !== "string" || secret.length === 0) throw invalid("secret", "is required");
  if (Buffer.byteLength(secret) > MAX_SECRET_BYTES) throw invalid("secret", `is longer than ${MAX_SECRET_BYTES} bytes`);
  if (/[\u0000-\u001f\u007f]/.test(secret)) throw invalid("secret", "contains a line break or control character");
  if (secret.trim() !== secret) throw invalid("secret", "has leading or trailing whitespace");
  return secret;
}

/**
 * Seals and stores a credential under its connection's identity, with its audit event and a
 * revision bump. Runs inside the caller's write transaction. The event carries the fingerprint,
 * never the value.
 */
export function storeCredential(
  ctx: ServiceContext,
  actor: Actor,
  bundle: string,
  connection: string,
  secret: string,
): { fingerprint: string; replaced: boolean } {
  if (!followKeyRotation(ctx.db, ctx.vault, ctx.env))
    throw new AppError("conflict", "the master key changed and this process cannot load the new one; restart Gatehouse");
  const identity = `${bundle}/${connection}`;
  const replaced = findSealedCredential(ctx.db, identity) !== undefined;
  const fingerprint = ctx.vault.fingerprint(secret);
  const now = ctx.now();
  upsertCredential(ctx.db, { identity, sealed: ctx.vault.seal(secret, identity), fingerprint, setBy: actorLabel(actor), setAt: now });
  appendAuditEvents(
    ctx.db,
    [
      {
        kind: "admin",
        action: replaced ? "credential.replaced" : "credential.set",
        actor: actorLabel(actor),
        bundle,
        connection,
        detail: { after: { secret: "[write-only]", fingerprint } },
      },
    ],
    now,
  );
  bumpPolicyRevision(ctx.db);
  return { fingerprint, replaced };
}
