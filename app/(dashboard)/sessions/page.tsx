import { Badge, Card, Empty, formatTime, PageHeader, Table, Td, Th } from "@/components/ui";
import { requireUser } from "@/app/_auth/dal";
import { can } from "@/lib/auth/permissions";
import { searchAudit } from "@/lib/services/audit/search-audit";
import { serviceContext } from "@/lib/services/context";
import { listSessions } from "@/lib/services/sessions/list-sessions";
import { RevokeSessionButton } from "./revoke-button";

export const dynamic = "force-dynamic";
export const metadata = { title: "Sessions" };

const STATE_TONE = { active: "green", idle: "slate", expired: "slate", revoked: "red" } as const;

export default async function SessionsPage() {
  const actor = await requireUser();
  const ctx = serviceContext();
  const sessions = listSessions({ ctx, actor });
  const refusals = can(actor, "audit.read") ? searchAudit({ ctx, actor, input: { action: "session.refused", limit: "20" } }).events : [];
  const owner = can(actor, "session.revoke");
  const active = sessions.filter((s) => s.state === "active");
  return (
    <>
      <PageHeader title="Sessions" description={`One session per sandbox thread. ${active.length} active now.`} />
      <div className="space-y-6">
        <Card title="Active and recent sessions">
          {sessions.length === 0 ? (
            <Empty>No sessions yet. The orchestrator asks for one with POST /api/v1/sessions when a member invokes the agent.</Empty>
          ) : (
            <Table label="Sessions">
              <thead>
                <tr>
                  <Th>Session</Th>
                  <Th>State</Th>
                  <Th>Workspace / channel</Th>
                  <Th>Member</Th>
                  <Th>Last activity</Th>
                  <Th>Started</Th>
                  <Th>Thread</Th>
                  {owner && <Th srLabel="Actions" sticky />}
                </tr>
              </thead>
              <tbody className="divide-y divide-slate-100">
                {sessions.map((s) => (
                  <tr key={s.id} data-testid={`session-${s.id}`}>
                    <Td className="font-mono text-xs">{s.id}</Td>
                    <Td>
                      <Badge tone={STATE_TONE[s.state]}>{s.state}</Badge>
                      {s.revokedBy && <span className="ml-1 text-xs text-slate-600">by {s.revokedBy}</span>}
                    </Td>
                    <Td>
                      {s.workspace} / {s.channel} {s.kind === "dm" && <Badge>DM</Badge>}
                    </Td>
                    <Td>{s.memberId}</Td>
                    <Td>{formatTime(s.lastSeenAt)}</Td>
                    <Td>{formatTime(s.createdAt)}</Td>
                    <Td className="font-mono text-xs">{s.thread}</Td>
                    {owner && <Td sticky>{s.state === "active" && <RevokeSessionButton id={s.id} label={s.id} />}</Td>}
                  </tr>
                ))}
              </tbody>
            </Table>
          )}
        </Card>
        {can(actor, "audit.read") && (
          <Card title="Recent refusals">
            {refusals.length === 0 ? (
              <Empty>No session requests have been refused.</Empty>
            ) : (
              <Table label="Recent refusals">
                <thead>
                  <tr>
                    <Th>Time</Th>
                    <Th>Workspace / channel</Th>
                    <Th>Member</Th>
                    <Th>Code</Th>
                    <Th>Reason</Th>
                  </tr>
                </thead>
                <tbody className="divide-y divide-slate-100">
                  {refusals.map((e) => (
                    <tr key={e.id} data-testid="session-refusal">
                      <Td>{formatTime(e.ts)}</Td>
                      <Td>
                        {e.workspace} / {e.channel}
                      </Td>
                      <Td>{e.member}</Td>
                      <Td>
                        <Badge tone="red">{e.rule}</Badge>
                      </Td>
                      <Td wrap className="text-slate-600">
                        {e.reason}
                      </Td>
                    </tr>
                  ))}
                </tbody>
              </Table>
            )}
          </Card>
        )}
      </div>
    </>
  );
}
