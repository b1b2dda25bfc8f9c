import Link from "next/link";
import { TimeLeft } from "@/components/time-left";
import { Alert, Card, Empty, PageHeader, shortenValues, Table, Td, Th } from "@/components/ui";
import { requireUser } from "@/app/_auth/dal";
import { can } from "@/lib/auth/permissions";
import { domainExpiresAt, domainPattern } from "@/lib/policy/document";
import { serviceContext } from "@/lib/services/context";
import { denyEntryCovering } from "@/lib/services/policy/deny-covers";
import { getPolicy } from "@/lib/services/policy/get-policy";
import { EndReportOnlyButton, GrantControls, GrantHostForm, ReportOnlyForm } from "./grant-forms";

export const dynamic = "force-dynamic";
export const metadata = { title: "Grants & report-only" };

type Params = { host?: string; workspace?: string; channel?: string };

export default async function GrantsPage({ searchParams }: { searchParams: Promise<Params> }) {
  const actor = await requireUser();
  const { host, workspace, channel } = await searchParams;
  const policy = await getPolicy({ ctx: serviceContext(), actor });
  const owner = can(actor, "policy.write");
  const now = Date.now();
  const grants = policy.bundles.flatMap((b) => [
    ...b.domains
      .filter((d) => domainExpiresAt(d))
      .map((d) => ({ bundle: b.name, kind: "domain" as const, name: domainPattern(d), expiresAt: domainExpiresAt(d)! })),
    ...b.connections
      .filter((c) => c.expiresAt)
      .map((c) => ({ bundle: b.name, kind: "connection" as const, name: c.name, expiresAt: c.expiresAt! })),
  ]);
  const deniedBy = host ? denyEntryCovering(policy.orgDeny, host) : undefined;
  return (
    <>
      <PageHeader
        title="Grants & report-only"
        description="Access for a bounded time: a host or a connection granted to a channel or a workspace ends by itself, and report-only mode lets a channel's would-be-blocked requests out, uncredentialed and logged, to learn what it needs."
      />
      <div className="space-y-6">
        {owner && (
          <Card title={host ? <span className="break-all">{`Grant ${shortenValues(host)} for a time`}</span> : "Grant a host for a time"}>
            {deniedBy ? (
              <Alert tone="amber">
                {shortenValues(host!)} is refused by the org-wide deny list entry {deniedBy}: a grant would change nothing.
              </Alert>
            ) : (
              <>
                {host && (
                  <p className="mb-3 text-sm text-amber-800">
                    Prefilled from a blocked request: check the host and where it should be reachable before you grant it.
                  </p>
                )}
                <div data-testid="grant-host">
                  <GrantHostForm host={host} workspace={workspace} channel={channel} />
                </div>
              </>
            )}
          </Card>
        )}
        <Card title="Time-bound grants">
          {grants.length === 0 ? (
            <Empty>No time-bound grants.</Empty>
          ) : (
            <Table label="Time-bound grants">
              <thead>
                <tr>
                  <Th>Bundle</Th>
                  <Th>Grant</Th>
                  <Th>Ends</Th>
                  {owner && <Th srLabel="Actions" sticky />}
                </tr>
              </thead>
              <tbody className="divide-y divide-slate-100">
                {grants.map((g) => (
                  <tr key={`${g.bundle}/${g.kind}/${g.name}`} data-testid="grant-row">
                    <Td>
                      <Link
                        className="underline-offset-2 hover:underline"
                        href={`/bundles/${encodeURIComponent(g.bundle)}?tab=${g.kind === "domain" ? "domains" : "connections"}`}
                      >
                        {g.bundle}
                      </Link>
                    </Td>
                    <Td wrap className="font-mono text-xs">
                      {g.kind === "domain" ? g.name : `connection ${g.name}`}
                    </Td>
                    <Td>
                      <TimeLeft until={g.expiresAt} now={now} />
                    </Td>
                    {owner && (
                      <Td sticky className="text-right">
                        <GrantControls bundle={g.bundle} kind={g.kind} name={g.name} />
                      </Td>
                    )}
                  </tr>
                ))}
              </tbody>
            </Table>
          )}
        </Card>
        <Card title="Report-only mode">
          <p className="mb-3 text-sm text-slate-600">
            For at most 7 days. A request that would be blocked for not being listed goes out without any credential and is logged as
            allowlisted with the reason it would have been blocked (
            <Link className="underline" href="/audit?wouldBlock=1">
              see them
            </Link>
            ). The org-wide deny list, private addresses and session checks still refuse.
          </p>
          {(policy.reportOnly ?? []).length === 0 ? (
            <Empty>No workspace or channel is in report-only mode.</Empty>
          ) : (
            <ul className="mb-4 space-y-2 text-sm" data-testid="report-only-list">
              {policy.reportOnly!.map((r) => (
                <li key={`${r.workspace}/${r.channel ?? ""}`} className="flex flex-wrap items-center gap-3">
                  <span className="font-medium">{r.channel ? `channel ${r.channel} in ${r.workspace}` : `workspace ${r.workspace}`}</span>
                  <TimeLeft until={r.until} now={now} prefix="ends in" />
                  {owner && <EndReportOnlyButton workspace={r.workspace} channel={r.channel} />}
                </li>
              ))}
            </ul>
          )}
          {owner && (
            <div className="mt-4 border-t border-slate-100 pt-4">
              <ReportOnlyForm />
            </div>
          )}
        </Card>
      </div>
    </>
  );
}
