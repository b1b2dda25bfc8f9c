// On every dashboard page while any workspace or channel is in report-only mode: requests that
// would be blocked are going out there, so nobody may miss it.
import Link from "next/link";
import { TimeLeft } from "./time-left";

export type ReportOnlyWindow = { workspace: string; channel?: string; until: string };

export function ReportOnlyBanner({ windows, now }: { windows: ReportOnlyWindow[]; now: number }) {
  const live = windows.filter((w) => Date.parse(w.until) > now);
  if (live.length === 0) return null;
  return (
    <div
      className="mb-4 rounded-md bg-red-50 px-3 py-2 text-sm text-red-900 ring-1 ring-inset ring-red-300"
      role="status"
      data-testid="report-only-banner"
    >
      <strong>Report-only mode:</strong> requests that would be blocked go out (without any credential) in{" "}
      {live.map((w, i) => (
        <span key={`${w.workspace}/${w.channel ?? ""}`}>
          {i > 0 && ", "}
          {w.channel ? `channel ${w.channel} in ${w.workspace}` : `workspace ${w.workspace}`}{" "}
          <TimeLeft until={w.until} now={now} prefix="ends in" />
        </span>
      ))}
      .{" "}
      <Link className="font-medium underline" href="/audit?wouldBlock=1">
        Would-have-blocked requests
      </Link>{" "}
      ·{" "}
      <Link className="font-medium underline" href="/grants">
        Manage
      </Link>
    </div>
  );
}
