// The main process's audit background work (never a proxy worker's): the stream sender and the
// scheduled retention run. Each takes a lease row, so among replicas on one database one sends
// and one archives at a time.
import { startAuditStreamer } from "../../audit/stream/streamer";
import { parseStreamTiming } from "../../audit/stream/config";
import { EnvError } from "../../env";
import { AppError } from "../../errors";
import type { ServiceContext } from "../context";
import { runRetention } from "./retention";

export type AuditBackground = { stop(): Promise<void> };

const UNIT_MS = { s: 1000, m: 60_000, h: 3_600_000 } as const;

/** GATEHOUSE_AUDIT_ARCHIVE_EVERY: how often the retention runs (default 1h). */
export function parseArchiveEvery(spec: string | undefined): number {
  if (!spec) return 3_600_000;
  const m = /^(\d{1,6})(s|m|h)$/.exec(spec.trim());
  const ms = m ? Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS] : NaN;
  if (!(ms >= 1000 && ms <= 7 * 86_400_000)) throw new EnvError("GATEHOUSE_AUDIT_ARCHIVE_EVERY: a duration from 1s to 168h (e.g. 1h)");
  return ms;
}

export function startAuditBackground(ctx: ServiceContext, source: NodeJS.ProcessEnv = process.env): AuditBackground {
  const streamer = startAuditStreamer(ctx, parseStreamTiming(source.GATEHOUSE_AUDIT_STREAM));
  const every = parseArchiveEvery(source.GATEHOUSE_AUDIT_ARCHIVE_EVERY);
  let running: Promise<unknown> | null = null;
  const archive = () => {
    if (running) return;
    running = runRetention({ ctx, actor: { type: "system", role: "owner" } })
      .then((r) => {
        if (r && r.events) console.error(`gatehouse: archived ${r.events} audit event(s) into ${r.segments.length} segment(s) in ${r.dir}`);
      })
      .catch((err: Error) => {
        if (!(err instanceof AppError && err.code === "conflict")) console.error(`gatehouse: audit retention run failed: ${err.message}`);
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
