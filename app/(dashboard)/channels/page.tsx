import Link from "next/link";
import { TimeLeft } from "@/components/time-left";
import { Badge, Card, Empty, PageHeader, Table, Td, Th } from "@/components/ui";
import { requireUser } from "@/app/_auth/dal";
import { can } from "@/lib/auth/permissions";
import { serviceContext } from "@/lib/services/context";
import { listCredentials } from "@/lib/services/credentials/list-credentials";
import { getPolicy } from "@/lib/services/policy/get-policy";
import { listChannels } from "@/lib/services/policy/list-channels";
import { ChannelsForm } from "./channels-form";

export const dynamic = "force-dynamic";
export const metadata = { title: "Channels" };

export default async function ChannelsPage() {
  const actor = await requireUser();
  const ctx = serviceContext();
  const { restricted, channels } = await listChannels({ ctx, actor });
  const orgDeny = (await getPolicy({ ctx, actor })).orgDeny;
  // Whether each connection has a credential; never the secret (the service has none to give).
  const credentialSet = await listCredentials({ ctx, actor });
  const now = Date.now();
  return (
    <>
      <PageHeader
        title="Channels"
        description="Where the agent works, and the effective policy of each channel: organization bundles, then the workspace's, then the channel's own."
      />
      <div className="space-y-6">
        <Card title="Where the agent may work">
          <p className="mb-3 text-sm text-slate-600">
            {restricted ? "Only the listed channels may start sessions." : "Every channel in a connected workspace may start sessions."}
          </p>
          {can(actor, "policy.write") && (
            <ChannelsForm
              restricted={restricted}
              channels={channels.filter((c) => c.enabled && restricted).map((c) => `${c.workspace}/${c.channel}`)}
            />
          )}
        </Card>
        <Card title="Org-wide deny list">
          <p className="mb-2 text-sm text-slate-600">Refused in every channel, whatever a bundle allows.</p>
          {orgDeny.length === 0 ? (
            <p className="text-sm text-slate-600" data-testid="channels-org-deny">
              Nothing is denied organization-wide.
            </p>
          ) : (
            <ul className="flex flex-wrap gap-2" data-testid="channels-org-deny">
              {orgDeny.map((p) => (
                <li
                  key={p}
                  className="break-all rounded bg-red-50 px-2 py-0.5 font-mono text-xs text-red-800 ring-1 ring-inset ring-red-200"
                >
                  {p}
                </li>
              ))}
            </ul>
          )}
        </Card>
        {channels.length === 0 && <Empty>No channels yet: name one in a bundle&apos;s scope or in the list above.</Empty>}
        {channels.map((c) => (
          <Card
            key={`${c.workspace}/${c.channel}`}
            title={
              <span data-testid={`channel-${c.workspace}/${c.channel}`}>
                {c.workspace} / {c.channel} {c.enabled ? <Badge tone="green">enabled</Badge> : <Badge tone="red">not enabled</Badge>}
                {c.reportOnlyUntil !== null && (
                  <span className="ml-2" data-testid="channel-report-only">
                    <Badge tone="red">report-only</Badge> <TimeLeft until={c.reportOnlyUntil} now={now} prefix="ends in" />
                  </span>
                )}
              </span>
            }
            actions={
              <Link className="text-sm underline" href={`/explain?channel=${encodeURIComponent(`${c.workspace}/${c.channel}`)}`}>
                Explain a request
              </Link>
            }
          >
            <h3 className="mb-2 text-xs font-medium uppercase tracking-wide text-slate-600">Connections (credentials attached)</h3>
            {c.connections.length === 0 ? (
              <p className="mb-4 text-sm text-slate-600">None.</p>
            ) : (
              <Table label={`Connections of ${c.workspace}/${c.channel}`}>
                <thead>
                  <tr>
                    <Th>Connection</Th>
                    <Th>From bundle</Th>
                    <Th>Acts as</Th>
                    <Th>Credential</Th>
                    <Th>Allowed websites</Th>
                    <Th>Narrowing</Th>
                    <Th>Inheritance</Th>
                  </tr>
                </thead>
                <tbody className="divide-y divide-slate-100">
                  {c.connections.map((conn) => (
                    <tr key={conn.name}>
                      <Td className="font-medium">
                        {conn.name} {conn.expiresAt && <TimeLeft until={conn.expiresAt} now={now} />}
                      </Td>
                      <Td>
                        {conn.bundle} <span className="text-xs text-slate-600">({conn.scope})</span>
                      </Td>
                      <Td>{conn.serviceAccount}</Td>
                      <Td>
                        {credentialSet.has(`${conn.bundle}/${conn.name}`) ? (
                          <Badge tone="green">set</Badge>
                        ) : (
                          <Badge tone="amber">not set</Badge>
                        )}
                      </Td>
                      <Td wrap className="font-mono text-xs">
                        {conn.allowedWebsites.join(", ")}
                      </Td>
                      <Td wrap>
                        {conn.narrow ? (
                          <span className="flex flex-wrap gap-1">
                            {conn.narrow.host && <Badge>host {conn.narrow.host}</Badge>}
                            {conn.narrow.pathPrefix && <Badge>path {conn.narrow.pathPrefix}</Badge>}
                            {conn.narrow.methods === "read_only" && <Badge>read-only</Badge>}
                          </span>
                        ) : (
                          <span className="text-slate-600">none</span>
                        )}
                      </Td>
                      <Td>
                        {conn.overrides.length > 0 ? (
                          <Badge tone="amber">overrides {conn.overrides.map((o) => `${o.bundle} (${o.scope})`).join(", ")}</Badge>
                        ) : conn.scope === "channel" ? (
                          <Badge tone="blue">channel&apos;s own</Badge>
                        ) : (
                          <Badge>inherited from {conn.scope}</Badge>
                        )}
                      </Td>
                    </tr>
                  ))}
                </tbody>
              </Table>
            )}
            <h3 className="mb-2 mt-4 text-xs font-medium uppercase tracking-wide text-slate-600">Domains (no credential)</h3>
            {c.effective.domains.length === 0 ? (
              <p className="text-sm text-slate-600">None.</p>
            ) : (
              <ul className="flex flex-wrap gap-2">
                {c.effective.domains.map((d) => (
                  <li key={`${d.bundle}:${d.pattern}`} className="break-all rounded bg-slate-100 px-2 py-0.5 font-mono text-xs">
                    {d.pattern} <span className="font-sans text-slate-600">· {d.bundle}</span>{" "}
                    {d.expiresAt && <TimeLeft until={d.expiresAt} now={now} />}
                  </li>
                ))}
              </ul>
            )}
          </Card>
        ))}
      </div>
    </>
  );
}
