import { verifyAuditLog, type ChainState } from "../../audit";
import type { Actor } from "../../auth/permissions";
import { authorize } from "../authorize";
import type { ServiceContext } from "../context";

/** Walks the whole hash chain: every event's hash and its link to the one before. */
export function verifyAudit({ ctx, actor }: { ctx: ServiceContext; actor: Actor | null }): ChainState & { checkedAt: number } {
  authorize(actor, "audit.read");
  return { ...verifyAuditLog(ctx.db), checkedAt: ctx.now() };
}
