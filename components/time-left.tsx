// How long a time-bound grant or a report-only window has left, wherever the policy is shown.
import { formatRemaining } from "@/lib/policy/time-bound";
import { Badge, formatTime } from "./ui";

export function TimeLeft({ until, now, prefix = "expires in" }: { until: string | number; now: number; prefix?: string }) {
  const at = typeof until === "number" ? until : Date.parse(until);
  const left = at - now;
  return (
    <span data-testid="time-left" title={formatTime(at)}>
      <Badge tone="amber">{left > 0 ? `${prefix} ${formatRemaining(left)}` : "expired"}</Badge>
      <span className="sr-only"> (at {formatTime(at)})</span>
    </span>
  );
}
