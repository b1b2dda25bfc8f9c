import Link from "next/link";
import { Alert, Badge, Card, Empty, formatTime, PageHeader, Table, Td, Th } from "@/components/ui";
import { requireUser } from "@/app/_auth/dal";
import { can } from "@/lib/auth/permissions";
import { listApiKeys } from "@/lib/services/api-keys/list-api-keys";
import { serviceContext } from "@/lib/services/context";
import { getCaCertificate } from "@/lib/services/settings/get-ca-certificate";
import { listUsers } from "@/lib/services/users/list-users";
import { SsoSettings } from "./sso-section";
import { AuditSettings } from "./audit-section";
import { AddUserForm, CreateApiKeyForm, ManageUserForms, RevokeApiKeyButton, UnlockUserButton } from "./forms";

export const dynamic = "force-dynamic";
export const metadata = { title: "Settings" };

export default async function SettingsPage({ searchParams }: { searchParams: Promise<{ user?: string; removed?: string }> }) {
  const actor = await requireUser();
  const { user: managed, removed } = await searchParams;
  const ctx = serviceContext();
  const users = await listUsers({ ctx, actor });
  const keys = await listApiKeys({ ctx, actor });
  const owner = can(actor, "user.write");
  const ca = await getCaCertificate({ ctx });
  const selected = owner ? users.find((u) => u.email === managed) : undefined;
  return (
    <>
      <PageHeader title="Settings" description="Dashboard users, API keys and the proxy's certificate authority." />
      <div className="space-y-6">
        <Card title="Users">
          {removed && !users.some((u) => u.email === removed) && (
            <div className="mb-3">
              <Alert tone="green">Removed {removed}.</Alert>
            </div>
          )}
          <Table label="Users">
            <thead>
              <tr>
                <Th>Email</Th>
                <Th>Role</Th>
                <Th>Last sign-in</Th>
                <Th>State</Th>
                {owner && <Th srLabel="Actions" sticky />}
              </tr>
            </thead>
            <tbody className="divide-y divide-slate-100">
              {users.map((u) => (
                <tr key={u.id} data-testid="user-row" className={selected?.id === u.id ? "bg-sky-50" : undefined}>
                  <Td className="font-medium text-slate-900">{u.email}</Td>
                  <Td>{u.role === "owner" ? "Owner" : "Auditor"}</Td>
                  <Td>{formatTime(u.lastSignInAt)}</Td>
                  <Td>
                    {u.lockedUntil ? (
                      <span className="inline-flex items-center gap-2">
                        <Badge tone="red">locked until {formatTime(u.lockedUntil)}</Badge>
                        {owner && <UnlockUserButton email={u.email} />}
                      </span>
                    ) : (
                      <Badge tone="green">active</Badge>
                    )}
                  </Td>
                  {owner && (
                    <Td sticky>
                      <Link
                        href={`/settings?user=${encodeURIComponent(u.email)}#manage-user`}
                        className="text-sm text-slate-800 underline"
                        aria-label={`Manage ${u.email}`}
                      >
                        Manage
                      </Link>
                    </Td>
                  )}
                </tr>
              ))}
            </tbody>
          </Table>
          {selected && (
            <div className="mt-4 rounded-md bg-slate-50 p-4 ring-1 ring-slate-200" id="manage-user" data-testid="manage-user">
              <div className="mb-3 flex flex-wrap items-center justify-between gap-2">
                <h3 className="break-all text-sm font-semibold text-slate-900">Manage {selected.email}</h3>
                <Link href="/settings" className="text-sm text-slate-700 underline">
                  Done
                </Link>
              </div>
              {/* Keyed by user so feedback about one user never shows beside another. */}
              <ManageUserForms key={selected.id} email={selected.email} role={selected.role} />
            </div>
          )}
          {owner && (
            <div className="mt-4 border-t border-slate-100 pt-4">
              <AddUserForm />
            </div>
          )}
        </Card>

        <Card title="API keys">
          {keys.length === 0 ? (
            <Empty>No API keys yet. The system that starts sandboxes needs one with the Orchestrator role.</Empty>
          ) : (
            <Table label="API keys">
              <thead>
                <tr>
                  <Th>Name</Th>
                  <Th>Role</Th>
                  <Th>Key</Th>
                  <Th>Created</Th>
                  <Th>Last used</Th>
                  <Th>State</Th>
                  {owner && <Th srLabel="Actions" sticky />}
                </tr>
              </thead>
              <tbody className="divide-y divide-slate-100">
                {keys.map((k) => (
                  <tr key={k.id}>
                    <Td className="font-medium text-slate-900">{k.name}</Td>
                    <Td>{k.role}</Td>
                    <Td className="font-mono text-xs">{k.prefix}…</Td>
                    <Td wrap>
                      {formatTime(k.createdAt)} <span className="text-slate-600">by {k.createdBy}</span>
                    </Td>
                    <Td>{formatTime(k.lastUsedAt)}</Td>
                    <Td>{k.revokedAt ? <Badge tone="red">revoked</Badge> : <Badge tone="green">active</Badge>}</Td>
                    {owner && <Td sticky>{!k.revokedAt && <RevokeApiKeyButton id={k.id} name={k.name} />}</Td>}
                  </tr>
                ))}
              </tbody>
            </Table>
          )}
          {owner && (
            <div className="mt-4 border-t border-slate-100 pt-4">
              <CreateApiKeyForm />
            </div>
          )}
        </Card>
        {owner && <SsoSettings actor={actor} />}
        {owner && <AuditSettings actor={actor} />}
        <Card title="Proxy certificate authority">
          {ca ? (
            <div className="space-y-2 text-sm">
              <p className="text-slate-600">
                Sandboxes trust this CA so Gatehouse can attach credentials to HTTPS requests. Its private key never leaves Gatehouse
                (sealed by the vault).
              </p>
              <p>
                SHA-256 <code className="break-all font-mono text-xs">{ca.sha256}</code> · valid until {ca.notAfter}
              </p>
              <a
                href="/api/v1/ca.pem"
                className="inline-block rounded-md px-3 py-1.5 ring-1 ring-slate-300 hover:bg-slate-50"
                download="gatehouse-ca.pem"
              >
                Download ca.pem
              </a>
            </div>
          ) : (
            <Empty>The CA is created when the proxy starts.</Empty>
          )}
        </Card>
      </div>
    </>
  );
}
