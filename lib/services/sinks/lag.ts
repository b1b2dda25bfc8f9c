import { lagAfter, listSinks } from "../../../db/queries/sinks";
import type { Db } from "../../../db/client";

export type SinkLag = { id: string; name: string; type: string; events: number; seconds: number };

/**
 * How far each sink is behind the chain head: events not yet delivered and the age of the oldest
 * of them. No authorisation: for the metrics endpoint (lib/metrics) and the services below.
 */
export async function sinkLag(db: Db, now: number = Date.now()): Promise<SinkLag[]> {
  const sinks = await listSinks(db);
  const out: SinkLag[] = [];
  for (const s of sinks) {
    const lag = await lagAfter(db, s.cursorSeq);
    out.push({
      id: s.id,
      name: s.name,
      type: s.type,
      events: lag.events,
      seconds: lag.oldestTs === null ? 0 : Math.max(0, Math.round((now - lag.oldestTs) / 1000)),
    });
  }
  return out;
}
