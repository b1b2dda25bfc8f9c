import Link from "next/link";
import { OutcomeBadge } from "@/components/outcome-badge";
import { Card, Empty, formatTime, PageHeader, Table, Td, Th } from "@/components/ui";
import { requireUser } from "@/lib/auth/dal";
import { searchAudit } from "@/lib/services/audit/search-audit";
import { serviceContext } from "@/lib/services/context";

export const dynamic = "force-dynamic";
export const metadata = { title: "Overview" };

export default async function OverviewPage() {
  const actor = await requireUser();
  const ctx = serviceContext();
  const recent = searchAudit({ ctx, actor, input: { limit: "15" } }).events;
  return (
    <>
      <PageHeader title="Overview" description="What Gatehouse has been doing." />
      <Card title="Recent activity">
        {recent.length === 0 ? (
          <Empty>No activity yet.</Empty>
        ) : (
          <Table>
            <thead>
              <tr>
                <Th>Time</Th>
                <Th>Kind</Th>
                <Th>Action</Th>
                <Th>Actor</Th>
                <Th>Outcome</Th>
                <Th>Detail</Th>
              </tr>
            </thead>
            <tbody className="divide-y divide-slate-100">
              {recent.map((e) => (
                <tr key={e.id}>
                  <Td className="font-mono text-xs">{formatTime(e.ts)}</Td>
                  <Td>{e.kind}</Td>
                  <Td className="font-mono text-xs">{e.action}</Td>
                  <Td>{e.actor ?? e.member ?? "—"}</Td>
                  <Td>
                    <OutcomeBadge outcome={e.outcome} />
                  </Td>
                  <Td className="max-w-md truncate text-slate-500">{e.host ? `${e.method ?? ""} ${e.host}${e.path ?? ""}` : (e.reason ?? "")}</Td>
                </tr>
              ))}
            </tbody>
          </Table>
        )}
        <p className="mt-3 text-xs text-slate-500">
          <Link className="underline" href="/settings">
            Manage users and API keys
          </Link>
        </p>
      </Card>
    </>
  );
}
