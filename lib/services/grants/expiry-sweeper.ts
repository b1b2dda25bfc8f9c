// Runs the expiry sweep (expire-grants.ts) at each expiry instant, by the policy clock. Its own
// policy cache learns of new grants within a second (a revision read), so the timer is always
// armed for the earliest pending expiry. A grant can also end before this process first saw it
// (a short grant, a clock moved, a process that was busy): so each new revision is swept too. Started by the composition root in each process;
// the sweep's transaction makes every expiry recorded once however many run.
import type { Clock } from "../../clock";
import { logger } from "../../log";
import { PolicyCache } from "../../policy-cache";
import type { ServiceContext } from "../context";
import { expireGrants } from "./expire-grants";

export function startExpirySweeper(
  ctx: ServiceContext,
  clock: Clock,
  log: (message: string) => void = (m) => logger("grants").error(m),
): { stop(): void } {
  const cache = new PolicyCache(ctx.db, clock);
  const sweep = () =>
    void expireGrants({ ctx, now: clock.now() }).catch((err: Error) =>
      log(`expiry sweep failed (${err.message}); it runs again at the next revision read`),
    );
  let sweptRevision = -1;
  let reading = false;
  // load() reads on either backend (current() serves only loaded policy on PostgreSQL).
  const refresh = async () => {
    if (reading) return;
    reading = true;
    try {
      await cache.load();
      if (cache.revision !== sweptRevision) {
        sweptRevision = cache.revision;
        sweep();
      }
    } catch {
      // the database could not be read: the next tick looks again
    } finally {
      reading = false;
    }
  };
  const off = cache.onExpiry(sweep);
  void refresh(); // sweeps too: what expired while no process was running
  const poll = setInterval(() => void refresh(), 1000);
  poll.unref();
  return {
    stop() {
      off();
      clearInterval(poll);
    },
  };
}
