// The one write path for policy: validate the whole resulting document, then replace the tables,
// drop credentials of removed connections, append the audit event and bump the revision, all in
// one transaction.
import {
  deleteCredential,
  listCredentialMeta,
  lockPolicyForWrite,
  readPolicyDocument,
  writePolicyDocument,
  bumpPolicyRevision,
} from "../../../db/queries/policy";
import { writeTransaction } from "../../../db/tx";
import { appendAuditEvents, type AuditAction, type AuditEventInput } from "../../audit";
import { actorLabel, type Actor } from "../../auth/permissions";
import { AppError } from "../../errors";
import { credentialIdentity, diffPolicy, validatePolicyDocument, type Change, type PolicyDocument } from "../../policy";
import type { ServiceContext } from "../context";
import { PolicyDraft } from "./policy-draft";

export type PolicyChange = { action: AuditAction; bundle?: string; connection?: string; detail?: Record<string, unknown> };

export function validateOrThrow(input: unknown, fieldPrefix = ""): PolicyDocument {
  const result = validatePolicyDocument(input);
  if (!result.ok) {
    const fields = result.errors.map((e) => ({ field: fieldPrefix + e.field, message: e.message }));
    throw new AppError("invalid_field", `${fields[0]!.field}: ${fields[0]!.message}`, { fields });
  }
  return result.document;
}

function identities(doc: PolicyDocument): Set<string> {
  return new Set(doc.bundles.flatMap((b) => b.connections.map((c) => credentialIdentity(b.name, c.name))));
}

/**
 * Applies `next` (already validated) in place of the current policy. `mutate` may instead derive
 * it from the current document inside the transaction, so concurrent edits never lose one another.
 */
export async function applyPolicy({
  ctx,
  actor,
  change,
  derive,
}: {
  ctx: ServiceContext;
  actor: Actor;
  change: PolicyChange;
  derive: (current: PolicyDocument) => PolicyDocument;
}): Promise<{ before: PolicyDocument; after: PolicyDocument; diff: Change[] }> {
  if (ctx.draftOnly) {
    const current = await readPolicyDocument(ctx.db);
    throw new PolicyDraft(current, derive(current));
  }
  const now = ctx.now();
  return await writeTransaction(ctx.db, async (tx) => {
    await lockPolicyForWrite(tx);
    const before = await readPolicyDocument(ctx.db);
    const after = derive(before);
    const diff = diffPolicy(before, after);
    if (diff.length === 0) return { before, after, diff };
    await writePolicyDocument(ctx.db, after);
    const keep = identities(after);
    const events: AuditEventInput[] = [
      {
        kind: "admin",
        action: change.action,
        actor: actorLabel(actor),
        bundle: change.bundle ?? null,
        connection: change.connection ?? null,
        detail: { ...change.detail, changes: diff },
      },
    ];
    for (const cred of await listCredentialMeta(ctx.db)) {
      if (keep.has(cred.identity)) continue;
      await deleteCredential(ctx.db, cred.identity);
      const [bundle, connection] = cred.identity.split("/");
      events.push({
        kind: "admin",
        action: "credential.revoked",
        actor: actorLabel(actor),
        bundle,
        connection,
        reason: "its connection was removed",
        detail: { before: { fingerprint: cred.fingerprint, secret: "[write-only]" } },
      });
    }
    await appendAuditEvents(ctx.db, events, now);
    await bumpPolicyRevision(ctx.db);
    return { before, after, diff };
  });
}
