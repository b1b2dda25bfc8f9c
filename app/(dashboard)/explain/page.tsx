import { OutcomeBadge } from "@/components/outcome-badge";
import { TimeLeft } from "@/components/time-left";
import { Alert, Badge, Button, Card, Field, Input, PageHeader, Select, Table, Td, Th } from "@/components/ui";
import { requireUser } from "@/app/_auth/dal";
import { AppError } from "@/lib/errors";
import { serviceContext } from "@/lib/services/context";
import { explainRequest, type ExplainResult } from "@/lib/services/policy/explain-request";
import { listChannels } from "@/lib/services/policy/list-channels";

export const dynamic = "force-dynamic";
export const metadata = { title: "Explain" };

const METHODS = ["GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH", "DELETE"];

/** A GET form: the question lives in the URL, so an explanation can be shared and linked from the audit log. */
export default async function ExplainPage({
  searchParams,
}: {
  searchParams: Promise<{ channel?: string; method?: string; url?: string }>;
}) {
  const actor = await requireUser();
  const ctx = serviceContext();
  const q = await searchParams;
  const known = (await listChannels({ ctx, actor })).channels.map((c) => `${c.workspace}/${c.channel}`);
  let result: ExplainResult | null = null;
  let error: string | null = null;
  if (q.channel && q.url) {
    try {
      result = await explainRequest({ ctx, actor, input: { channel: q.channel, method: q.method ?? "GET", url: q.url } });
    } catch (err) {
      if (!(err instanceof AppError)) throw err;
      error = err.message;
    }
  }
  return (
    <>
      <PageHeader
        title="Explain"
        description="The outcome a request from a channel's sandbox would get right now, the rule that decides it, and every rule considered."
      />
      <Card>
        <form
          method="GET"
          className="grid grid-cols-1 items-end gap-3 sm:grid-cols-[14rem_8rem] lg:grid-cols-[14rem_8rem_1fr_auto]"
          aria-label="Explain a request"
        >
          <Field label="Channel (WORKSPACE/CHANNEL)" htmlFor="channel">
            <Input id="channel" name="channel" list="known-channels" defaultValue={q.channel} placeholder="T0ACME/C0ENG" required />
            <datalist id="known-channels">
              {known.map((k) => (
                <option key={k} value={k} />
              ))}
            </datalist>
          </Field>
          <Field label="Method" htmlFor="method">
            <Select id="method" name="method" defaultValue={q.method ?? "GET"}>
              {METHODS.map((m) => (
                <option key={m}>{m}</option>
              ))}
            </Select>
          </Field>
          <Field label="URL" htmlFor="url">
            <Input id="url" name="url" defaultValue={q.url} placeholder="https://api.github.com/repos/acme/app" required />
          </Field>
          <Button type="submit">Explain</Button>
        </form>
      </Card>
      {error && (
        <div className="mt-4">
          <Alert>{error}</Alert>
        </div>
      )}
      {result && (
        <div className="mt-6 space-y-4" data-testid="explain-result">
          <Card title="Decision">
            <div className="mb-2 flex flex-wrap items-center gap-3">
              <OutcomeBadge outcome={result.decision.outcome} />
              <code className="break-all font-mono text-xs">{result.decision.rule}</code>
              {!result.channelEnabled && <Badge tone="red">channel not enabled: no session would be granted</Badge>}
              {result.decision.reportOnlyUntil !== undefined && (
                <span data-testid="explain-report-only">
                  <Badge tone="red">report-only</Badge>{" "}
                  <TimeLeft until={result.decision.reportOnlyUntil} now={Date.now()} prefix="ends in" />
                </span>
              )}
              {result.decision.expiresAt !== undefined && (
                <span data-testid="explain-expires">
                  time-bound: <TimeLeft until={result.decision.expiresAt} now={Date.now()} />
                </span>
              )}
            </div>
            <p className="text-sm text-slate-700 wrap-anywhere">{result.decision.reason}</p>
            {result.decision.connection && (
              <p className="mt-2 text-sm text-slate-600">
                Credential of {result.decision.connection.identity}, acting as {result.decision.connection.serviceAccount}.
              </p>
            )}
          </Card>
          <Card title="Every rule considered">
            <Table label="Every rule considered">
              <thead>
                <tr>
                  <Th>Rule</Th>
                  <Th>Bundle</Th>
                  <Th>Applies</Th>
                  <Th>Why</Th>
                </tr>
              </thead>
              <tbody className="divide-y divide-slate-100">
                {result.considered.map((c, i) => (
                  <tr key={`${c.rule}-${i}`} className={c.rule === result!.decision.rule ? "bg-sky-50" : undefined}>
                    <Td wrap className="min-w-32 font-mono text-xs">
                      {c.rule}
                    </Td>
                    <Td>{c.bundle ? `${c.bundle} (${c.scope})` : "org-wide"}</Td>
                    <Td>{c.applies ? <Badge tone="green">yes</Badge> : <Badge>no</Badge>}</Td>
                    <Td wrap className="text-slate-600">
                      {c.why}
                    </Td>
                  </tr>
                ))}
              </tbody>
            </Table>
          </Card>
        </div>
      )}
    </>
  );
}
