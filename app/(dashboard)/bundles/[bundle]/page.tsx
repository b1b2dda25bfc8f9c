import Link from "next/link";
import { notFound } from "next/navigation";
import { CredentialHealthDetail } from "@/components/credential-health";
import { scopeLabel } from "@/components/scope-label";
import { Alert, Badge, Card, cx, Empty, formatTime, PageHeader, Table, Td, Th } from "@/components/ui";
import { requireUser } from "@/app/_auth/dal";
import { can } from "@/lib/auth/permissions";
import { serviceContext } from "@/lib/services/context";
import { listConnectionHealth } from "@/lib/services/credentials/credential-health";
import { listCredentials } from "@/lib/services/credentials/list-credentials";
import { getPolicy } from "@/lib/services/policy/get-policy";
import { domainExpiresAt, domainPattern } from "@/lib/policy/document";
import { TimeLeft } from "@/components/time-left";
import { GrantControls, GrantHostForm } from "../../grants/grant-forms";
import {
  AddDomainForm,
  DeleteBundleForm,
  DeleteConnectionButton,
  RemoveDomainButton,
  ReplaceCredentialForm,
  RevokeCredentialButton,
  ScopeForm,
} from "../forms";

export const dynamic = "force-dynamic";

const TABS = [
  { id: "connections", label: "Connections" },
  { id: "domains", label: "Domains" },
  { id: "scope", label: "Scope" },
] as const;

export async function generateMetadata({ params }: { params: Promise<{ bundle: string }> }) {
  return { title: decodeURIComponent((await params).bundle) };
}

export default async function BundlePage({
  params,
  searchParams,
}: {
  params: Promise<{ bundle: string }>;
  searchParams: Promise<{ tab?: string; add?: string; saved?: string }>;
}) {
  const actor = await requireUser();
  const name = decodeURIComponent((await params).bundle);
  const { tab: rawTab, add, saved } = await searchParams;
  const tab = TABS.some((t) => t.id === rawTab) ? rawTab! : add ? "domains" : "connections";
  const ctx = serviceContext();
  const bundle = (await getPolicy({ ctx, actor })).bundles.find((b) => b.name === name);
  if (!bundle) notFound();
  const creds = await listCredentials({ ctx, actor });
  const health = new Map(
    (await listConnectionHealth({ ctx, actor })).filter((c) => c.bundle === name).map((c) => [c.connection, c.health]),
  );
  const owner = can(actor, "policy.write");
  const base = `/bundles/${encodeURIComponent(name)}`;
  const now = Date.now();

  return (
    <>
      <PageHeader
        title={bundle.name}
        description={<Badge tone="slate">{scopeLabel(bundle.scope)}</Badge>}
        actions={
          owner && tab === "connections" ? (
            <Link
              href={`${base}/connections/new`}
              className="rounded-md bg-slate-900 px-3 py-1.5 text-sm font-medium text-white hover:bg-slate-700"
            >
              Add connection
            </Link>
          ) : null
        }
      />
      <div className="mb-4 flex gap-1 border-b border-slate-200" role="tablist">
        {TABS.map((t) => (
          <Link
            key={t.id}
            href={`${base}?tab=${t.id}`}
            role="tab"
            aria-selected={tab === t.id}
            className={cx(
              "-mb-px border-b-2 px-3 py-2 text-sm",
              tab === t.id ? "border-slate-900 font-medium text-slate-900" : "border-transparent text-slate-600 hover:text-slate-800",
            )}
          >
            {t.label}
          </Link>
        ))}
      </div>

      {tab === "connections" && (
        <div className="space-y-4">
          {saved && <Alert tone="green">Connection {saved} saved.</Alert>}
          {bundle.connections.length === 0 && (
            <Empty>No connections. A connection holds a credential and the websites it may travel to.</Empty>
          )}
          {bundle.connections.map((c) => {
            const cred = creds.get(`${bundle.name}/${c.name}`);
            return (
              <Card
                key={c.name}
                title={
                  <span>
                    {c.name} <span className="font-normal text-slate-600">as {c.serviceAccount}</span>{" "}
                    {c.expiresAt && <TimeLeft until={c.expiresAt} now={now} />}
                  </span>
                }
                actions={
                  owner && (
                    <>
                      <Link
                        href={`${base}/connections/${encodeURIComponent(c.name)}`}
                        className="text-sm text-slate-600 underline-offset-2 hover:underline"
                      >
                        Edit
                      </Link>
                      <DeleteConnectionButton bundle={bundle.name} connection={c.name} />
                    </>
                  )
                }
              >
                <dl className="grid grid-cols-1 gap-x-4 gap-y-1 text-sm sm:grid-cols-[10rem_minmax(0,1fr)] sm:gap-y-2">
                  <dt className="text-slate-600">Attached as</dt>
                  <dd>
                    {c.inject.type === "bearer"
                      ? "Authorization: Bearer"
                      : c.inject.type === "basic"
                        ? `Basic auth, user ${c.inject.username}`
                        : `Header ${c.inject.name}`}
                  </dd>
                  <dt className="text-slate-600">Allowed websites</dt>
                  <dd className="font-mono text-xs wrap-anywhere">{c.allowedWebsites.join(", ")}</dd>
                  <dt className="text-slate-600">Narrowing</dt>
                  <dd>
                    {c.narrow ? (
                      <span className="flex flex-wrap gap-2">
                        {c.narrow.host && <Badge>host {c.narrow.host}</Badge>}
                        {c.narrow.pathPrefix && <Badge>path {c.narrow.pathPrefix}</Badge>}
                        {c.narrow.methods === "read_only" && <Badge>read-only</Badge>}
                      </span>
                    ) : (
                      <span className="text-slate-600">none: the credential travels to every Allowed website</span>
                    )}
                  </dd>
                  {health.get(c.name) && (
                    <>
                      <dt className="text-slate-600">Health</dt>
                      <dd>
                        <CredentialHealthDetail health={health.get(c.name)} testId={`health-${c.name}`} />
                      </dd>
                    </>
                  )}
                  <dt className="text-slate-600">Credential</dt>
                  <dd className="wrap-anywhere" data-testid={`credential-${c.name}`}>
                    {cred ? (
                      <span>
                        <Badge tone="green">set</Badge> by {cred.setBy} on {formatTime(cred.setAt)} · fingerprint{" "}
                        <code className="font-mono text-xs">{cred.fingerprint}</code> · last used{" "}
                        {cred.lastUsedAt ? formatTime(cred.lastUsedAt) : <span className="text-amber-700">never</span>}
                      </span>
                    ) : (
                      <Badge tone="amber">not set: requests go out without it</Badge>
                    )}
                  </dd>
                </dl>
                {owner && (
                  <div className="mt-4 flex flex-wrap items-start gap-3 border-t border-slate-100 pt-3">
                    <ReplaceCredentialForm bundle={bundle.name} connection={c.name} hasCredential={!!cred} />
                    {cred && <RevokeCredentialButton bundle={bundle.name} connection={c.name} />}
                  </div>
                )}
                {owner && c.expiresAt && (
                  <div className="mt-3 border-t border-slate-100 pt-3" data-testid={`grant-${c.name}`}>
                    <GrantControls bundle={bundle.name} kind="connection" name={c.name} />
                  </div>
                )}
              </Card>
            );
          })}
        </div>
      )}

      {tab === "domains" && (
        <Card title="Domains">
          <p className="mb-3 text-sm text-slate-600">
            Hosts this bundle&apos;s scope may reach with no credential attached. They add up across scopes.
          </p>
          {bundle.domains.length === 0 ? (
            <Empty>No domains.</Empty>
          ) : (
            <Table label="Domains">
              <thead>
                <tr>
                  <Th>Host pattern</Th>
                  {owner && <Th srLabel="Actions" sticky />}
                </tr>
              </thead>
              <tbody className="divide-y divide-slate-100">
                {bundle.domains.map((entry) => {
                  const d = domainPattern(entry);
                  const until = domainExpiresAt(entry);
                  return (
                    <tr key={d} data-testid="domain-row">
                      <Td wrap className="font-mono text-xs">
                        {d} {until && <TimeLeft until={until} now={now} />}
                      </Td>
                      {owner && (
                        <Td sticky className="text-right">
                          {until ? (
                            <GrantControls bundle={bundle.name} kind="domain" name={d} />
                          ) : (
                            <RemoveDomainButton bundle={bundle.name} pattern={d} />
                          )}
                        </Td>
                      )}
                    </tr>
                  );
                })}
              </tbody>
            </Table>
          )}
          {owner && (
            <div className="mt-4 border-t border-slate-100 pt-4">
              {add && <p className="mb-2 text-sm text-amber-800">Prefilled from a blocked request: check the host before you allow it.</p>}
              <AddDomainForm bundle={bundle.name} prefill={add} />
            </div>
          )}
          {owner && (
            <div className="mt-4 border-t border-slate-100 pt-4" data-testid="grant-domain">
              <h3 className="mb-2 text-sm font-medium">Or grant a host for a time</h3>
              <GrantHostForm bundle={bundle.name} host={add} />
            </div>
          )}
        </Card>
      )}

      {tab === "scope" && (
        <Card title="Scope">
          <p className="mb-3 text-sm text-slate-600">
            Organization bundles apply everywhere; workspace bundles in one workspace; channel bundles in the channels they name. A
            connection in a narrower scope replaces one of the same name from a wider scope.
          </p>
          {owner ? (
            <div className="space-y-6">
              <ScopeForm bundle={bundle.name} scope={bundle.scope} />
              <div className="border-t border-slate-100 pt-4">
                <DeleteBundleForm bundle={bundle.name} />
              </div>
            </div>
          ) : (
            <p>{scopeLabel(bundle.scope)}</p>
          )}
        </Card>
      )}
    </>
  );
}
