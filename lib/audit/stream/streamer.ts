// The audit stream sender: a background loop in the main process (never a proxy worker). Each
// sink is pumped on its own, from its cursor, in bounded batches; a failure backs off
// exponentially (capped) for that sink alone. The proxy only appends to the chain and never waits
// for any of this: a slow or dead sink lags, and catches up when it is back.
import { advanceSinkCursor, listSinks, readEventsAfter, recordSinkFailure, type SinkRow } from "../../../db/queries/sinks";
import type { ServiceContext } from "../../services/context";
import { followKeyRotation } from "../../bootstrap";
import { logger } from "../../log";
import { VaultError } from "../../vault";
import { processHolder, releaseLease, tryLease } from "../lease";
import type { StreamTiming } from "./config";
import { deliver, DeliveryError } from "./deliver";

const log = logger("audit");

export const STREAM_LEASE = "audit-stream";

export function sinkSecretAad(id: string): string {
  return `audit_sinks.${id}.secret`;
}

export type AuditStreamer = { stop(): Promise<void>; /** For tests and shutdown: one tick now. */ tick(): Promise<void> };

type PumpState = { busy: Promise<void> | null; failures: number; nextAttemptAt: number };

/** The signing secret in plaintext, for one delivery; follows a `vault rotate-key` made by another process. */
export async function openSinkSecret(ctx: ServiceContext, sink: Pick<SinkRow, "id" | "secretSealed">): Promise<string | null> {
  if (!sink.secretSealed) return null;
  try {
    return ctx.vault.open(sink.secretSealed, sinkSecretAad(sink.id)).reveal();
  } catch (err) {
    if (!(err instanceof VaultError) || !(await followKeyRotation(ctx.db, ctx.vault, ctx.env))) throw err;
    return ctx.vault.open(sink.secretSealed, sinkSecretAad(sink.id)).reveal();
  }
}

/** Full jitter over the capped exponential: replicas and sinks do not retry in lockstep. */
export function backoffDelay(failures: number, t: Pick<StreamTiming, "backoffMs" | "backoffMaxMs">, random = Math.random): number {
  const ceiling = Math.min(t.backoffMaxMs, t.backoffMs * 2 ** Math.min(failures - 1, 30));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

export function startAuditStreamer(ctx: ServiceContext, timing: StreamTiming): AuditStreamer {
  const pumps = new Map<string, PumpState>();
  let stopped = false;
  let holding = false;
  let ticking: Promise<void> | null = null;

  async function pump(sink: SinkRow, state: PumpState): Promise<void> {
    let cursor = sink.cursorSeq;
    for (let rounds = 0; !stopped && rounds < 20; rounds++) {
      const events = await readEventsAfter(ctx.db, cursor, timing.batch);
      if (events.length === 0) return;
      try {
        await deliver({ type: sink.type, format: sink.format, url: sink.url }, events, {
          secret: await openSinkSecret(ctx, sink),
          timeoutMs: timing.timeoutMs,
          caPath: ctx.env.upstreamCaPath,
        });
      } catch (err) {
        if (err instanceof VaultError)
          log.error(`audit stream to sink "${sink.name}": its signing secret does not open under the current master key`);
        state.failures++;
        state.nextAttemptAt = ctx.now() + backoffDelay(state.failures, timing);
        await recordSinkFailure(ctx.db, sink.id, err instanceof DeliveryError ? err.message : "delivery failed", ctx.now());
        return;
      }
      state.failures = 0;
      const last = events.at(-1)!.seq;
      if (!(await advanceSinkCursor(ctx.db, sink.id, last, ctx.now()))) return; // removed, or moved by someone else
      cursor = last;
      if (events.length < timing.batch) return;
    }
  }

  async function tick(): Promise<void> {
    holding = await tryLease(ctx.db, STREAM_LEASE, processHolder, timing.leaseMs, ctx.now());
    if (!holding) return;
    const sinks = await listSinks(ctx.db);
    const live = new Set(sinks.map((s) => s.id));
    for (const id of pumps.keys()) if (!live.has(id)) pumps.delete(id);
    const now = ctx.now();
    for (const sink of sinks) {
      let state = pumps.get(sink.id);
      if (!state) pumps.set(sink.id, (state = { busy: null, failures: 0, nextAttemptAt: 0 }));
      if (state.busy || now < state.nextAttemptAt) continue;
      const s = state;
      s.busy = pump(sink, s)
        .catch((err: Error) => log.error(`audit stream to sink "${sink.name}": ${err.message}`))
        .finally(() => (s.busy = null));
    }
  }

  const timer = setInterval(() => {
    if (ticking || stopped) return;
    ticking = tick()
      .catch((err: Error) => log.error(`audit stream: ${err.message}`))
      .finally(() => (ticking = null));
  }, timing.pollMs);
  timer.unref();

  return {
    tick,
    stop: async () => {
      stopped = true;
      clearInterval(timer);
      await ticking;
      // Deliveries in flight are not awaited: their cursors have not moved, so they are sent again.
      if (holding) await releaseLease(ctx.db, STREAM_LEASE, processHolder).catch(() => {});
    },
  };
}
