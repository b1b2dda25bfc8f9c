import Link from "next/link";
import { OutcomeChart } from "@/components/outcome-chart";
import { Badge, Card, Empty, formatTime, PageHeader, Table, Td, Th } from "@/components/ui";
import { requireUser } from "@/app/_auth/dal";
import { can } from "@/lib/auth/permissions";
import { getOverview } from "@/lib/services/audit/overview";
import { serviceContext } from "@/lib/services/context";

export const dynamic = "force-dynamic";
export const metadata = { title: "Overview" };

const STALE_MS = 30 * 24 * 3600_000;

export default async function OverviewPage() {
  const actor = await requireUser();
  const o = getOverview({ ctx: serviceContext(), actor });
  const owner = can(actor, "policy.write");
  const now = Date.now();
  return (
    <>
      <PageHeader title="Overview" description="Egress at a glance: what went out, what was stopped, which credentials are in use." />
      <div className="mb-6 grid grid-cols-4 gap-4">
        <Card>
          <div className="text-xs uppercase tracking-wide text-slate-500">Requests, 24 h</div>
          <div className="mt-1 text-2xl font-semibold">{o.hours.reduce((n, h) => n + h.credentialed + h.allowlisted + h.blocked, 0)}</div>
        </Card>
        <Card>
          <div className="text-xs uppercase tracking-wide text-slate-500">Blocked, 24 h</div>
          <div className="mt-1 text-2xl font-semibold text-red-700">{o.hours.reduce((n, h) => n + h.blocked, 0)}</div>
        </Card>
        <Card>
          <div className="text-xs uppercase tracking-wide text-slate-500">Active sessions</div>
          <div className="mt-1 text-2xl font-semibold" data-testid="active-sessions">
            <Link href="/sessions">{o.activeSessions}</Link>
          </div>
        </Card>
        <Card>
          <div className="text-xs uppercase tracking-wide text-slate-500">Audit chain</div>
          <div className="mt-1" data-testid="overview-chain">
            {!o.chain.ok ? (
              <Badge tone="red">broken at #{o.chain.firstBad?.seq}</Badge>
            ) : o.chain.verifiedThrough < o.chain.latest ? (
              <Badge tone="amber">intact so far · verified through #{o.chain.verifiedThrough} of {o.chain.latest}</Badge>
            ) : (
              <Badge tone="green">intact · {o.chain.events} events</Badge>
            )}
          </div>
        </Card>
      </div>
      <div className="space-y-6">
        <Card title="Requests per hour by outcome (UTC)">
          <OutcomeChart hours={o.hours} />
        </Card>
        <div className="grid grid-cols-1 gap-6 xl:grid-cols-2">
          <Card title="Top blocked hosts, 7 days">
            {o.topBlocked.length === 0 ? (
              <Empty>Nothing blocked.</Empty>
            ) : (
              <Table>
                <thead>
                  <tr>
                    <Th>Host</Th>
                    <Th>Blocked</Th>
                    <Th />
                  </tr>
                </thead>
                <tbody className="divide-y divide-slate-100">
                  {o.topBlocked.map((b) => (
                    <tr key={b.host} data-testid="top-blocked">
                      <Td className="font-mono text-xs">
                        <Link className="underline-offset-2 hover:underline" href={`/audit?host=${encodeURIComponent(b.host)}&outcome=blocked`}>
                          {b.host}
                        </Link>
                      </Td>
                      <Td>{b.count}</Td>
                      <Td className="text-right">
                        {owner && (
                          <Link className="text-sm underline" href={`/bundles?allow=${encodeURIComponent(b.host)}`} aria-label={`Add ${b.host} to a Domains tab`}>
                            Add to Domains…
                          </Link>
                        )}
                      </Td>
                    </tr>
                  ))}
                </tbody>
              </Table>
            )}
          </Card>
          <Card title="Credentials by last use">
            {o.credentials.length === 0 ? (
              <Empty>No connections yet.</Empty>
            ) : (
              <Table>
                <thead>
                  <tr>
                    <Th>Connection</Th>
                    <Th>Acts as</Th>
                    <Th>Last used</Th>
                  </tr>
                </thead>
                <tbody className="divide-y divide-slate-100">
                  {o.credentials.map((c) => (
                    <tr key={c.identity} data-testid="credential-use">
                      <Td>
                        <Link className="underline-offset-2 hover:underline" href={`/bundles/${encodeURIComponent(c.bundle)}`}>
                          {c.identity}
                        </Link>
                      </Td>
                      <Td>{c.serviceAccount}</Td>
                      <Td>
                        {!c.set ? (
                          <Badge tone="amber">no credential</Badge>
                        ) : !c.lastUsedAt ? (
                          <Badge tone="amber">never used</Badge>
                        ) : now - c.lastUsedAt > STALE_MS ? (
                          <Badge tone="amber">unused since {formatTime(c.lastUsedAt)}</Badge>
                        ) : (
                          formatTime(c.lastUsedAt)
                        )}
                      </Td>
                    </tr>
                  ))}
                </tbody>
              </Table>
            )}
          </Card>
        </div>
      </div>
    </>
  );
}
