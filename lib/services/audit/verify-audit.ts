import { archivedPoint, verifyAuditLog, type ChainState } from "../../audit";
import type { Actor } from "../../auth/permissions";
import { authorize } from "../authorize";
import type { ServiceContext } from "../context";
import { importJournals } from "../../audit/journal";

/** Walks the whole live hash chain (from the last archived hash): every event's hash and its link to the one before. */
export function verifyAudit({
  ctx,
  actor,
}: {
  ctx: ServiceContext;
  actor: Actor | null;
}): ChainState & { checkedAt: number; archivedThrough: number } {
  authorize(actor, "audit.read");
  importJournals(ctx.db, ctx.env.dataDir);
  return { ...verifyAuditLog(ctx.db), checkedAt: ctx.now(), archivedThrough: archivedPoint(ctx.db)?.seq ?? 0 };
}
