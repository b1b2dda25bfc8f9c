import { bumpPolicyRevision, deleteCredential, listCredentialMeta } from "../../../db/queries/policy";
import { writeTransaction } from "../../../db/tx";
import { appendAuditEvents } from "../../audit";
import { actorLabel, type Actor } from "../../auth/permissions";
import { AppError } from "../../errors";
import { authorize } from "../authorize";
import type { ServiceContext } from "../context";

/** Deletes the sealed credential; the proxy stops attaching it on its very next request. */
export function revokeCredential({
  ctx,
  actor,
  input,
}: {
  ctx: ServiceContext;
  actor: Actor | null;
  input: { bundle: string; connection: string };
}): void {
  authorize(actor, "credential.write");
  const identity = `${input.bundle}/${input.connection}`;
  const now = ctx.now();
  writeTransaction(ctx.db, () => {
    const meta = listCredentialMeta(ctx.db).find((c) => c.identity === identity);
    if (!meta || !deleteCredential(ctx.db, identity)) throw new AppError("not_found", `no credential is set for ${identity}`);
    appendAuditEvents(
      ctx.db,
      [
        {
          kind: "admin",
          action: "credential.revoked",
          actor: actorLabel(actor),
          bundle: input.bundle,
          connection: input.connection,
          detail: { before: { secret: "[write-only]", fingerprint: meta.fingerprint } },
        },
      ],
      now,
    );
    bumpPolicyRevision(ctx.db);
  });
}
