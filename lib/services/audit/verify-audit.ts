import { verifyAuditLog, type ChainState } from "../../audit";
import type { Actor } from "../../auth/permissions";
import { authorize } from "../authorize";
import type { ServiceContext } from "../context";
import { importJournals } from "../../audit/journal";

/** Walks the whole hash chain: every event's hash and its link to the one before. */
export async function verifyAudit({
  ctx,
  actor,
}: {
  ctx: ServiceContext;
  actor: Actor | null;
}): Promise<ChainState & { checkedAt: number }> {
  authorize(actor, "audit.read");
  await importJournals(ctx.db, ctx.env.dataDir);
  return { ...(await verifyAuditLog(ctx.db)), checkedAt: ctx.now() };
}
