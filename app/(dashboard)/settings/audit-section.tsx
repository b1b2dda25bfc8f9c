import { Badge, Card, Empty, formatTime, Table, Td, Th } from "@/components/ui";
import type { Actor } from "@/lib/auth/permissions";
import { serviceContext } from "@/lib/services/context";
import { getRetention } from "@/lib/services/audit/retention";
import { listSinks } from "@/lib/services/sinks/list-sinks";
import { AddSinkForm, RetentionForm, SinkButtons } from "./audit-forms";

export function lagText(events: number, seconds: number): string {
  if (events === 0) return "caught up";
  return `${events} event${events === 1 ? "" : "s"} behind${seconds ? ` (${seconds < 120 ? `${seconds} s` : `${Math.round(seconds / 60)} min`})` : ""}`;
}

/** Settings' "Audit streaming" and "Audit retention" cards (Owners). */
export async function AuditSettings({ actor }: { actor: Actor }) {
  const ctx = serviceContext();
  const sinks = await listSinks({ ctx, actor });
  const retention = await getRetention({ ctx, actor });
  return (
    <>
      <Card title="Audit streaming">
        <p className="mb-3 text-sm text-slate-600">
          Every audit event goes to each sink at least once, in chain order, with its id and hash, so the receiver can drop duplicates and
          check the chain. A sink that is down falls behind and catches up; the proxy never waits for it.
        </p>
        {sinks.length === 0 ? (
          <Empty>No sinks. The audit log stays in Gatehouse's database.</Empty>
        ) : (
          <Table label="Audit sinks">
            <thead>
              <tr>
                <Th>Name</Th>
                <Th>Where</Th>
                <Th>Format</Th>
                <Th>Last delivery</Th>
                <Th>Lag</Th>
                <Th>Last error</Th>
                <Th srLabel="Actions" sticky />
              </tr>
            </thead>
            <tbody className="divide-y divide-slate-100">
              {sinks.map((s) => (
                <tr key={s.id} data-testid="sink-row">
                  <Td className="font-medium text-slate-900">{s.name}</Td>
                  <Td wrap>
                    <span className="text-slate-600">{s.type}</span> <code className="break-all font-mono text-xs">{s.url}</code>
                    {s.secretSet && <span className="ml-1 text-xs text-slate-600">· signing secret set</span>}
                  </Td>
                  <Td>{s.format === "ocsf" ? "OCSF" : "JSON"}</Td>
                  <Td>{formatTime(s.lastDeliveryAt)}</Td>
                  <Td>
                    {s.lag.events === 0 ? (
                      <Badge tone="green">caught up</Badge>
                    ) : (
                      <Badge tone={s.failures ? "red" : "amber"}>{lagText(s.lag.events, s.lag.seconds)}</Badge>
                    )}
                  </Td>
                  <Td wrap>
                    {s.lastError ? (
                      <span className="text-sm">
                        {formatTime(s.lastErrorAt)}: {s.lastError}
                      </span>
                    ) : (
                      <span className="text-slate-600">none</span>
                    )}
                  </Td>
                  <Td sticky>
                    <SinkButtons id={s.id} name={s.name} />
                  </Td>
                </tr>
              ))}
            </tbody>
          </Table>
        )}
        <div className="mt-4 border-t border-slate-100 pt-4">
          <AddSinkForm />
        </div>
      </Card>
      <Card title="Audit retention">
        <div className="space-y-3 text-sm">
          <p className="text-slate-600">
            {retention.days === null
              ? "Gatehouse keeps every audit event in its database."
              : `Events older than ${retention.days} day(s) move into archive segments in ${retention.archiveDir}; \`gatehouse audit verify --archive DIR\` checks them and the live log as one chain.`}
          </p>
          {retention.segments > 0 && (
            <p data-testid="archive-summary">
              Archived: {retention.archivedEvents} event(s) in {retention.segments} segment(s), through event {retention.archivedThroughSeq}
              ; last run {formatTime(retention.lastArchivedAt)}.
            </p>
          )}
          <RetentionForm days={retention.days} />
        </div>
      </Card>
    </>
  );
}
