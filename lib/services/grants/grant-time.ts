// How long a grant or a report-only window lasts, as the dashboard and the API say it.
import { invalid } from "../../errors";

export const GRANT_DURATIONS = { "1h": 3600_000, "1d": 24 * 3600_000, "7d": 7 * 24 * 3600_000 } as const;
export type GrantDuration = keyof typeof GRANT_DURATIONS | "custom";

/**
 * The instant (ms) a grant made at `now` ends: a preset duration, or a chosen time (RFC 3339, or
 * a `datetime-local` value read as UTC, the zone the dashboard shows). In the future, and no later
 * than `max` after now when given.
 */
export function grantEnd(input: { duration?: unknown; until?: unknown }, now: number, opts: { field?: string; max?: number } = {}): number {
  const field = opts.field ?? "duration";
  const duration = String(input.duration ?? "");
  let end: number;
  if (duration in GRANT_DURATIONS) end = now + GRANT_DURATIONS[duration as keyof typeof GRANT_DURATIONS];
  else if (duration === "custom" || (duration === "" && input.until)) {
    const raw = String(input.until ?? "").trim();
    if (raw.length > 40) throw invalid("until", "is not a time");
    const local = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?$/.test(raw);
    const zoned = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$/.test(raw);
    end = local ? Date.parse(`${raw}Z`) : zoned ? Date.parse(raw.toUpperCase()) : NaN;
    if (!Number.isFinite(end)) throw invalid("until", "choose a date and time (UTC), e.g. 2026-12-01T09:00");
    if (end <= now) throw invalid("until", "must be in the future");
  } else throw invalid(field, "choose 1 hour, 1 day, 7 days or a chosen time");
  if (opts.max !== undefined && end > now + opts.max)
    throw invalid(duration === "custom" ? "until" : field, `is at most ${Math.round(opts.max / 86_400_000)} days ahead`);
  // Whole seconds: what the policy document shows is what decides.
  return Math.ceil(end / 1000) * 1000;
}
