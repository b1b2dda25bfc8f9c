// From an audit event of a blocked request (or one report-only let out) to the form that would
// allow it: a time-bound grant to its channel, or the Domains add form with the host filled.
import Link from "next/link";
import type { AuditEvent } from "@/lib/services/audit/search-audit";

export function isWouldBlock(e: Pick<AuditEvent, "rule">): boolean {
  return !!e.rule?.startsWith("reportOnly:");
}

/** Owners get the links; everyone sees that report-only let the request out. */
export function GrantLinks({ event: e, owner, compact }: { event: AuditEvent; owner: boolean; compact?: boolean }) {
  if (e.kind !== "egress" || e.action !== "egress.request" || !e.host) return null;
  const blocked = e.outcome === "blocked" && e.rule === "default:block";
  const wouldBlock = isWouldBlock(e);
  if (!blocked && !wouldBlock) return null;
  const host = e.port && e.port !== 443 && e.port !== 80 ? `${e.host}:${e.port}` : e.host;
  const grant = new URLSearchParams({ host });
  if (e.workspace) grant.set("workspace", e.workspace);
  if (e.channel) grant.set("channel", e.channel);
  return (
    <span className={compact ? "ml-2 inline-flex gap-2 text-xs" : "flex flex-wrap gap-3 text-sm"}>
      {wouldBlock && <span className="rounded bg-red-50 px-1 text-red-800 ring-1 ring-inset ring-red-200">would have been blocked</span>}
      {owner && (
        <>
          <Link className="underline" href={`/bundles?allow=${encodeURIComponent(host)}`}>
            Add to Domains…<span className="sr-only"> {host}</span>
          </Link>
          <Link className="underline" href={`/grants?${grant}`}>
            Grant for a time…<span className="sr-only"> {host}</span>
          </Link>
        </>
      )}
    </span>
  );
}

export function WouldBlockFilter({ checked }: { checked: boolean }) {
  return (
    <label className="flex items-end gap-2 pb-2 text-sm">
      <input type="checkbox" name="wouldBlock" value="1" defaultChecked={checked} />
      Would have blocked (report-only)
    </label>
  );
}
