import { readPolicyDocument } from "../../../db/queries/policy";
import { writeTransaction } from "../../../db/tx";
import type { Actor } from "../../auth/permissions";
import { AppError } from "../../errors";
import { authorize } from "../authorize";
import type { ServiceContext } from "../context";
import { checkSecret, storeCredential } from "./store-credential";

/** Sets or replaces a connection's credential. There is no verb that reads one back. */
export function setCredential({
  ctx,
  actor,
  input,
}: {
  ctx: ServiceContext;
  actor: Actor | null;
  input: { bundle: string; connection: string; secret: unknown };
}): { fingerprint: string; replaced: boolean } {
  authorize(actor, "credential.write");
  const secret = checkSecret(input.secret);
  return writeTransaction(ctx.db, () => {
    const doc = readPolicyDocument(ctx.db);
    const exists = doc.bundles.some((b) => b.name === input.bundle && b.connections.some((c) => c.name === input.connection));
    if (!exists) throw new AppError("not_found", `no connection ${input.bundle}/${input.connection}`);
    return storeCredential(ctx, actor, input.bundle, input.connection, secret);
  });
}
