// The main process's audit background work (never a proxy worker's): the stream sender and the
// scheduled retention run. Each takes a lease row, so among replicas on one database one sends
// and one archives at a time.
import { startAuditStreamer } from "../../audit/stream/streamer";
import { AppError } from "../../errors";
import { logger } from "../../log";
import type { ServiceContext } from "../context";
import { runRetention } from "./retention";

const log = logger("audit");

export type AuditBackground = { stop(): Promise<void> };

export function startAuditBackground(ctx: ServiceContext): AuditBackground {
  const streamer = startAuditStreamer(ctx, ctx.env.auditStream);
  const every = ctx.env.auditArchiveEvery;
  let running: Promise<unknown> | null = null;
  const archive = () => {
    if (running) return;
    running = runRetention({ ctx, actor: { type: "system", role: "owner" } })
      .then((r) => {
        if (r && r.events) log.info(`archived ${r.events} audit event(s) into ${r.segments.length} segment(s) in ${r.dir}`);
      })
      .catch((err: Error) => {
        if (!(err instanceof AppError && err.code === "conflict")) log.error(`audit retention run failed: ${err.message}`);
      })
      .finally(() => (running = null));
  };
  const first = setTimeout(archive, Math.min(every, 5_000));
  const timer = setInterval(archive, every);
  first.unref();
  timer.unref();
  return {
    stop: async () => {
      clearTimeout(first);
      clearInterval(timer);
      await Promise.all([streamer.stop(), running]);
    },
  };
}
