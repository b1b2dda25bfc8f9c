// The clock that time-bound grants and report-only windows expire by. Injected wherever an
// expiry is scheduled, so tests can move it: unit tests with a manual clock, tests against the
// real process with GATEHOUSE_TEST_POLICY_CLOCK (a file holding an offset in ms that the test
// rewrites; each process re-reads it when it changes).
import fs from "node:fs";

export type Clock = {
  now(): number;
  /** Runs `fn` once the clock reads `at` or later; returns a cancel function. */
  at(at: number, fn: () => void): () => void;
};

// setTimeout fires at once for delays over 2^31-1 ms: longer waits are taken in steps.
const MAX_DELAY = 2 ** 31 - 1;

function armTimer(clock: { now(): number }, at: number, fn: () => void): { cancel(): void; rearm(): void } {
  let handle: NodeJS.Timeout | null = null;
  let done = false;
  const arm = () => {
    if (done) return;
    if (handle) clearTimeout(handle);
    const delay = at - clock.now();
    if (delay <= 0) {
      done = true;
      handle = null;
      fn();
      return;
    }
    handle = setTimeout(arm, Math.min(delay, MAX_DELAY));
    handle.unref();
  };
  arm();
  return {
    cancel: () => {
      done = true;
      if (handle) clearTimeout(handle);
    },
    rearm: arm,
  };
}

export const systemClock: Clock = {
  now: Date.now,
  at: (at, fn) => armTimer(systemClock, at, fn).cancel,
};

/** For tests against a real process: the system clock plus an offset read from a file. */
export function offsetFileClock(file: string): Clock {
  let offset = 0;
  const read = () => {
    try {
      const n = Number(fs.readFileSync(file, "utf8").trim() || "0");
      if (Number.isFinite(n)) offset = n;
    } catch {
      // no file yet: no offset
    }
  };
  read();
  const timers = new Set<{ rearm(): void }>();
  const clock: Clock = {
    now: () => Date.now() + offset,
    at: (at, fn) => {
      const t = armTimer(clock, at, () => {
        timers.delete(t);
        fn();
      });
      timers.add(t);
      return () => {
        timers.delete(t);
        t.cancel();
      };
    },
  };
  fs.watchFile(file, { interval: 50, persistent: false }, () => {
    read();
    for (const t of [...timers]) t.rearm();
  });
  return clock;
}

/** A clock the test moves by hand; `advance` fires what has come due. */
export function manualClock(start: number): Clock & { advance(ms: number): void; set(ms: number): void } {
  let now = start;
  const pending = new Set<{ at: number; fn: () => void }>();
  const fire = () => {
    for (const t of [...pending].sort((a, b) => a.at - b.at)) {
      if (t.at > now) continue;
      pending.delete(t);
      t.fn();
    }
  };
  return {
    now: () => now,
    at: (at, fn) => {
      const t = { at, fn };
      pending.add(t);
      if (at <= now) fire();
      return () => void pending.delete(t);
    },
    advance: (ms) => {
      now += ms;
      fire();
    },
    set: (ms) => {
      now = ms;
      fire();
    },
  };
}

let processClock: Clock | undefined;
/** This process's policy clock: the system's, or the test clock when GATEHOUSE_TEST_POLICY_CLOCK names a file. */
export function policyClock(testClockFile: string | undefined): Clock {
  processClock ??= testClockFile ? offsetFileClock(testClockFile) : systemClock;
  return processClock;
}
