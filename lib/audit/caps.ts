// Caps on what an audit event stores from callers: the log is append-only, so whatever lands
// in it stays forever. Past its cap a field keeps its start and says how much was cut.

/** Free-text fields (actor, reason, path, host, rule…): at most this many characters. */
export const AUDIT_TEXT_MAX = 1024;
/** The JSON `detail` of one event (before/after snapshots): at most this many characters. */
export const AUDIT_DETAIL_MAX = 64 * 1024;

/** `text` cut to `max` characters in all, ending "…[truncated N chars]" when it was longer. */
export function capText(text: string, max: number = AUDIT_TEXT_MAX): string {
  if (text.length <= max) return text;
  // The suffix counts against the cap; N is what was removed, so the original length is known.
  let keep = max - 24;
  for (;;) {
    const suffix = `…[truncated ${text.length - keep} chars]`;
    if (keep + suffix.length <= max || keep <= 0) return text.slice(0, Math.max(0, keep)) + suffix;
    keep -= keep + suffix.length - max;
  }
}

/** The detail's JSON, or, past the cap, a small JSON object saying it was cut, with its start. */
export function capDetail(json: string, max: number = AUDIT_DETAIL_MAX): string {
  if (json.length <= max) return json;
  return JSON.stringify({ truncated: true, originalLength: json.length, preview: capText(json, Math.min(4096, max)) });
}
