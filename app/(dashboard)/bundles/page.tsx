import Link from "next/link";
import { scopeLabel } from "@/components/scope-label";
import { Alert, Badge, Card, Empty, PageHeader, shortenValues, Table, Td, Th } from "@/components/ui";
import { requireUser } from "@/app/_auth/dal";
import { can } from "@/lib/auth/permissions";
import { serviceContext } from "@/lib/services/context";
import { listCredentials } from "@/lib/services/credentials/list-credentials";
import { denyEntryCovering } from "@/lib/services/policy/deny-covers";
import { getPolicy } from "@/lib/services/policy/get-policy";
import { CreateBundleForm, OrgDenyForm } from "./forms";

export const dynamic = "force-dynamic";
export const metadata = { title: "Bundles" };

export default async function BundlesPage({ searchParams }: { searchParams: Promise<{ allow?: string }> }) {
  const actor = await requireUser();
  const { allow } = await searchParams;
  const ctx = serviceContext();
  const policy = getPolicy({ ctx, actor });
  const creds = listCredentials({ ctx, actor });
  const owner = can(actor, "policy.write");
  const deniedBy = allow ? denyEntryCovering(policy.orgDeny, allow) : undefined;
  return (
    <>
      <PageHeader
        title="Access bundles"
        description="Each bundle grants its scope a set of connections (credentials the proxy attaches) and Domains (hosts reachable without one). Channels inherit the organization's bundles, then their workspace's, then their own."
      />
      {allow && owner && deniedBy && (
        <div className="mb-6" data-testid="allow-host-denied">
          <Alert tone="amber">
            {shortenValues(allow)} is refused by the org-wide deny list entry {deniedBy}: allowing it on a Domains tab would change nothing.
            Edit the deny list first if it should be reachable.
          </Alert>
        </div>
      )}
      {allow && owner && !deniedBy && (
        <div className="mb-6" data-testid="allow-host">
          <Card title={<span className="break-all">{`Allow ${shortenValues(allow)}: choose the bundle whose Domains tab it joins`}</span>}>
            <p className="mb-3 text-sm text-slate-600">
              Nothing changes until you confirm on the Domains tab. Allow only what the channels of that bundle need.
            </p>
            <div className="flex flex-wrap gap-2">
              {policy.bundles.map((b) => (
                <Link
                  key={b.name}
                  href={`/bundles/${encodeURIComponent(b.name)}?tab=domains&add=${encodeURIComponent(allow)}`}
                  className="rounded-md px-3 py-1.5 text-sm ring-1 ring-slate-300 hover:bg-slate-50"
                >
                  {b.name} <span className="text-slate-600">({scopeLabel(b.scope)})</span>
                </Link>
              ))}
            </div>
          </Card>
        </div>
      )}
      <div className="grid grid-cols-1 gap-6 xl:grid-cols-3">
        <div className="space-y-6 xl:col-span-2">
          <Card title="Bundles">
            {policy.bundles.length === 0 ? (
              <Empty>No bundles yet: every request from every sandbox is blocked.</Empty>
            ) : (
              <Table label="Bundles">
                <thead>
                  <tr>
                    <Th>Bundle</Th>
                    <Th>Scope</Th>
                    <Th>Connections</Th>
                    <Th>Domains</Th>
                  </tr>
                </thead>
                <tbody className="divide-y divide-slate-100">
                  {policy.bundles.map((b) => (
                    <tr key={b.name}>
                      <Td>
                        <Link
                          href={`/bundles/${encodeURIComponent(b.name)}`}
                          className="font-medium text-slate-900 underline-offset-2 hover:underline"
                        >
                          {b.name}
                        </Link>
                      </Td>
                      <Td>
                        <Badge tone={b.scope.type === "organization" ? "blue" : b.scope.type === "workspace" ? "slate" : "amber"}>
                          {scopeLabel(b.scope)}
                        </Badge>
                      </Td>
                      <Td>
                        {b.connections.length === 0
                          ? "—"
                          : b.connections.map((c) => (
                              <span key={c.name} className="mr-2">
                                {c.name}
                                {!creds.has(`${b.name}/${c.name}`) && <span className="ml-1 text-xs text-amber-700">(no credential)</span>}
                              </span>
                            ))}
                      </Td>
                      <Td>{b.domains.length}</Td>
                    </tr>
                  ))}
                </tbody>
              </Table>
            )}
          </Card>
          {owner && (
            <Card title="New bundle">
              <CreateBundleForm />
            </Card>
          )}
        </div>
        <Card title="Org-wide deny list">
          <OrgDenyForm patterns={policy.orgDeny} readOnly={!owner} />
        </Card>
      </div>
    </>
  );
}
