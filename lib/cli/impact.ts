// The impact preview as text, for `policy import --dry-run`.
import type { ImpactPreview } from "../services/policy/preview-impact";

export function formatImpact(p: ImpactPreview): string {
  const lines: string[] = [];
  lines.push("");
  lines.push(
    `impact: replayed ${p.replayed.requests} distinct requests (${p.replayed.events} logged events) of the last ${p.window.days} day(s) against the file${p.replayed.truncated ? " (partial: too many distinct requests)" : ""}`,
  );
  if (p.transitions.length === 0) lines.push("  no request would be decided differently");
  else lines.push(`  ${p.changed.requests} distinct requests (${p.changed.events} events) would be decided differently:`);
  for (const t of p.transitions) {
    lines.push(`  ${t.from} → ${t.to}: ${t.requests} requests, ${t.events} events`);
    for (const e of t.examples)
      lines.push(`    ${e.method} ${e.url}  (${e.workspace}/${e.channel}, ${e.count}×)  ${e.after.rule}  audit: ${e.auditUrl}`);
  }
  for (const d of p.deniedEntries) {
    lines.push(
      `  warning: ${d.pattern} (${d.connection ? `${d.bundle}/${d.connection} Allowed websites` : `${d.bundle} Domains`}) has no effect: the org-wide deny entry ${d.deniedBy} blocks it`,
    );
  }
  return lines.join("\n") + "\n";
}
