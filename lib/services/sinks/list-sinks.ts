import { listSinks as listSinkRows } from "../../../db/queries/sinks";
import type { Actor } from "../../auth/permissions";
import { authorize } from "../authorize";
import type { ServiceContext } from "../context";
import { sinkLag } from "./lag";
import type { SinkView } from "./sink-input";

/** Owner: the sinks, their delivery state and lag. Never the signing secret, only whether one is set. */
export async function listSinks({ ctx, actor }: { ctx: ServiceContext; actor: Actor | null }): Promise<SinkView[]> {
  authorize(actor, "settings.write");
  const rows = await listSinkRows(ctx.db);
  const lags = new Map((await sinkLag(ctx.db, ctx.now())).map((l) => [l.id, l]));
  return rows.map((s) => ({
    id: s.id,
    name: s.name,
    type: s.type,
    format: s.format,
    url: s.url,
    secretSet: !!s.secretSealed,
    cursorSeq: s.cursorSeq,
    lastDeliveryAt: s.lastDeliveryAt,
    lastError: s.lastError,
    lastErrorAt: s.lastErrorAt,
    failures: s.failures,
    createdBy: s.createdBy,
    createdAt: s.createdAt,
    lag: { events: lags.get(s.id)?.events ?? 0, seconds: lags.get(s.id)?.seconds ?? 0 },
  }));
}

/** Anyone who may read the audit log: how far behind each sink is, for the Overview (no URLs). */
export async function sinkLagSummary({
  ctx,
  actor,
}: {
  ctx: ServiceContext;
  actor: Actor | null;
}): Promise<{ name: string; type: string; events: number; seconds: number }[]> {
  authorize(actor, "audit.read");
  return (await sinkLag(ctx.db, ctx.now())).map(({ name, type, events, seconds }) => ({ name, type, events, seconds }));
}
