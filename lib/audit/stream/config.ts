// GATEHOUSE_AUDIT_STREAM: the sender's pacing (`poll=500ms,backoff=1s,backoff-max=60s,batch=500,timeout=10s`).
// Tests shorten the back-off; nothing else needs to change it.
import { EnvError } from "../../env";

export type StreamTiming = { pollMs: number; backoffMs: number; backoffMaxMs: number; batch: number; timeoutMs: number; leaseMs: number };

export const DEFAULT_STREAM_TIMING: StreamTiming = { pollMs: 500, backoffMs: 1_000, backoffMaxMs: 60_000, batch: 500, timeoutMs: 10_000, leaseMs: 15_000 };

const KEYS: Record<string, keyof StreamTiming> = { poll: "pollMs", backoff: "backoffMs", "backoff-max": "backoffMaxMs", batch: "batch", timeout: "timeoutMs", lease: "leaseMs" };
const UNIT_MS = { ms: 1, s: 1000, m: 60_000 } as const;

export function parseStreamTiming(spec: string | undefined): StreamTiming {
  const out = { ...DEFAULT_STREAM_TIMING };
  const where = "GATEHOUSE_AUDIT_STREAM";
  for (const part of (spec ?? "").split(",").map((s) => s.trim()).filter(Boolean)) {
    const [key, value = ""] = part.split("=", 2) as [string, string?];
    const name = KEYS[key];
    if (!name) throw new EnvError(`${where}: "${key}" is not a setting (${Object.keys(KEYS).join(", ")})`);
    if (name === "batch") {
      if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > 5000) throw new EnvError(`${where}: batch must be 1 to 5000 events`);
      out.batch = Number(value);
      continue;
    }
    const m = /^(\d+)(ms|s|m)$/.exec(value);
    if (!m) throw new EnvError(`${where}: ${key} needs a duration in ms, s or m`);
    const ms = Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS];
    if (ms < 10 || ms > 3600_000) throw new EnvError(`${where}: ${key} must be between 10ms and 1 hour`);
    out[name] = ms;
  }
  if (out.backoffMaxMs < out.backoffMs) throw new EnvError(`${where}: backoff-max must not be shorter than backoff`);
  return out;
}

/** Where archive segments go: GATEHOUSE_AUDIT_ARCHIVE_DIR, else `<data>/archive`. */
export function archiveDirFrom(source: NodeJS.ProcessEnv, dataDir: string): string {
  const dir = source.GATEHOUSE_AUDIT_ARCHIVE_DIR;
  return dir ? dir : `${dataDir}/archive`;
}
