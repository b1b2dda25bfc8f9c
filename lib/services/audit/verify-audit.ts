import { archivedPoint, verifyAuditLog, type ChainState } from "../../audit";
import type { Actor } from "../../auth/permissions";
import { authorize } from "../authorize";
import type { ServiceContext } from "../context";
import { importJournals } from "../../audit/journal";

/** Walks the whole live hash chain (from the last archived hash): every event's hash and its link to the one before. */
export async function verifyAudit({
  ctx,
  actor,
}: {
  ctx: ServiceContext;
  actor: Actor | null;
}): Promise<ChainState & { checkedAt: number; archivedThrough: number }> {
  authorize(actor, "audit.read");
  await importJournals(ctx.db, ctx.env.dataDir);
  return { ...(await verifyAuditLog(ctx.db)), checkedAt: ctx.now(), archivedThrough: (await archivedPoint(ctx.db))?.seq ?? 0 };
}
