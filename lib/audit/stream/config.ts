// GATEHOUSE_AUDIT_STREAM: the sender's pacing (`poll=500ms,backoff=1s,backoff-max=60s,batch=500,timeout=10s`).
// Tests shorten the back-off; nothing else needs to change it.

export type StreamTiming = { pollMs: number; backoffMs: number; backoffMaxMs: number; batch: number; timeoutMs: number; leaseMs: number };

export const DEFAULT_STREAM_TIMING: StreamTiming = {
  pollMs: 500,
  backoffMs: 1_000,
  backoffMaxMs: 60_000,
  batch: 500,
  timeoutMs: 10_000,
  leaseMs: 15_000,
};

const KEYS: Record<string, keyof StreamTiming> = {
  poll: "pollMs",
  backoff: "backoffMs",
  "backoff-max": "backoffMaxMs",
  batch: "batch",
  timeout: "timeoutMs",
  lease: "leaseMs",
};
const UNIT_MS = { ms: 1, s: 1000, m: 60_000 } as const;

export function parseStreamTiming(spec: string | undefined): StreamTiming {
  const out = { ...DEFAULT_STREAM_TIMING };
  const where = "GATEHOUSE_AUDIT_STREAM";
  for (const part of (spec ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean)) {
    const [key, value = ""] = part.split("=", 2) as [string, string?];
    const name = KEYS[key];
    if (!name) throw new Error(`${where}: "${key}" is not a setting (${Object.keys(KEYS).join(", ")})`);
    if (name === "batch") {
      if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > 5000) throw new Error(`${where}: batch must be 1 to 5000 events`);
      out.batch = Number(value);
      continue;
    }
    const m = /^(\d+)(ms|s|m)$/.exec(value);
    if (!m) throw new Error(`${where}: ${key} needs a duration in ms, s or m`);
    const ms = Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS];
    if (ms < 10 || ms > 3600_000) throw new Error(`${where}: ${key} must be between 10ms and 1 hour`);
    out[name] = ms;
  }
  if (out.backoffMaxMs < out.backoffMs) throw new Error(`${where}: backoff-max must not be shorter than backoff`);
  return out;
}

const EVERY_MS = { s: 1000, m: 60_000, h: 3_600_000 } as const;

/** GATEHOUSE_AUDIT_ARCHIVE_EVERY: how often the retention runs (default 1h). */
export function parseArchiveEvery(spec: string | undefined): number {
  if (!spec) return 3_600_000;
  const m = /^(\d{1,6})(s|m|h)$/.exec(spec.trim());
  const ms = m ? Number(m[1]) * EVERY_MS[m[2] as keyof typeof EVERY_MS] : NaN;
  if (!(ms >= 1000 && ms <= 7 * 86_400_000)) throw new Error("GATEHOUSE_AUDIT_ARCHIVE_EVERY: a duration from 1s to 168h (e.g. 1h)");
  return ms;
}
