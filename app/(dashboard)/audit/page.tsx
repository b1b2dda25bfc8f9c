import Link from "next/link";
import { OutcomeBadge } from "@/components/outcome-badge";
import { Alert, Badge, Button, Card, cx, Empty, Field, formatTime, Input, PageHeader, Select, Table, Td, Th } from "@/components/ui";
import { requireUser } from "@/app/_auth/dal";
import { GrantLinks, isWouldBlock, WouldBlockFilter } from "./grant-links";
import { can } from "@/lib/auth/permissions";
import { AppError } from "@/lib/errors";
import { getAuditEvent, searchAudit, type AuditEvent } from "@/lib/services/audit/search-audit";
import { verifyAudit } from "@/lib/services/audit/verify-audit";
import { serviceContext } from "@/lib/services/context";

export const dynamic = "force-dynamic";
export const metadata = { title: "Audit" };

const FILTERS = [
  "q",
  "kind",
  "outcome",
  "host",
  "workspace",
  "channel",
  "member",
  "actor",
  "connection",
  "from",
  "to",
  "wouldBlock",
] as const;
type Params = Partial<Record<(typeof FILTERS)[number] | "cursor" | "event" | "verify", string>>;

/** The plain inputs of the filter form: name, label, input type, placeholder. */
const TEXT_FILTERS: [(typeof FILTERS)[number], string, string, string?][] = [
  ["host", "Host", "text", "api.github.com"],
  ["from", "From (UTC)", "datetime-local"],
  ["to", "To (UTC)", "datetime-local"],
  ["workspace", "Workspace", "text"],
  ["channel", "Channel", "text"],
  ["member", "Member", "text"],
  ["actor", "Actor", "text"],
  ["connection", "Connection", "text"],
];

function query(params: Params, change: Params): string {
  const merged = { ...params, ...change };
  const qs = new URLSearchParams();
  for (const [k, v] of Object.entries(merged)) if (v) qs.set(k, v);
  const s = qs.toString();
  return s ? `?${s}` : "";
}

/** datetime-local has no zone: the dashboard speaks UTC, like every timestamp it shows. */
function toApiTime(v: string | undefined): string | undefined {
  if (!v) return undefined;
  return /Z|[+-]\d\d:\d\d$/.test(v) ? v : `${v}Z`;
}

/** Identifiers read best in monospace; prose (reasons) does not. */
const MONO_FIELDS = new Set(["Request", "Session", "Thread", "Rule", "Request line", "Hash", "Previous"]);

function describe(e: AuditEvent): string {
  if (e.kind === "egress")
    return `${e.method ?? ""} ${e.scheme ?? "https"}://${e.host ?? ""}${e.port && e.port !== 443 && e.port !== 80 ? `:${e.port}` : ""}${e.path ?? ""}`;
  if (e.kind === "admin") {
    const snapshot = (e.detail?.after ?? e.detail?.before) as Record<string, unknown> | undefined;
    const target = [e.bundle, e.connection].filter(Boolean).join("/");
    const summary = snapshot
      ? Object.entries(snapshot)
          .filter(([k]) => ["email", "name", "role", "pattern", "prefix", "fingerprint", "mode", "expiresAt", "until"].includes(k))
          .map(([k, v]) => `${k} ${String(v)}`)
          .join(", ")
      : "";
    const changes = Array.isArray(e.detail?.changes) ? `${(e.detail.changes as unknown[]).length} change(s)` : "";
    const grant = typeof e.detail?.pattern === "string" ? `host ${e.detail.pattern}` : "";
    return [target, grant, summary, changes].filter(Boolean).join(" · ");
  }
  return e.reason ?? "";
}

export default async function AuditPage({ searchParams }: { searchParams: Promise<Params> }) {
  const actor = await requireUser();
  const ctx = serviceContext();
  const params = await searchParams;
  const filters = Object.fromEntries(FILTERS.map((f) => [f, f === "from" || f === "to" ? toApiTime(params[f]) : params[f]]));
  let result: Awaited<ReturnType<typeof searchAudit>> = { events: [], nextCursor: null };
  let error: string | null = null;
  try {
    result = await searchAudit({ ctx, actor, input: { ...filters, cursor: params.cursor, limit: "50" } });
  } catch (err) {
    if (!(err instanceof AppError)) throw err;
    error = err.message;
  }
  let selected: AuditEvent | null = null;
  if (params.event) {
    try {
      selected = await getAuditEvent({ ctx, actor, id: params.event });
    } catch (err) {
      if (!(err instanceof AppError)) throw err;
    }
  }
  const chain = params.verify ? await verifyAudit({ ctx, actor }) : null;
  const exportQs = new URLSearchParams(Object.entries(filters).filter((e): e is [string, string] => !!e[1]));
  const base: Params = Object.fromEntries(FILTERS.map((f) => [f, params[f]]));

  return (
    <>
      <PageHeader
        title="Audit log"
        description="Every request, change and sign-in, newest first. Append-only and hash-chained."
        actions={
          <>
            <Link className="rounded-md px-3 py-1.5 text-sm ring-1 ring-slate-300 hover:bg-slate-50" href={query(base, { verify: "1" })}>
              Verify chain
            </Link>
            <a
              className="rounded-md px-3 py-1.5 text-sm ring-1 ring-slate-300 hover:bg-slate-50"
              href={`/api/v1/audit/export?format=csv&${exportQs}`}
              data-testid="export-csv"
            >
              Export CSV
            </a>
            <a
              className="rounded-md px-3 py-1.5 text-sm ring-1 ring-slate-300 hover:bg-slate-50"
              href={`/api/v1/audit/export?format=jsonl&${exportQs}`}
              data-testid="export-jsonl"
            >
              Export JSON Lines
            </a>
          </>
        }
      />
      {chain && (
        <div className="mb-4" data-testid="chain-state">
          {chain.ok ? (
            <Alert tone="green">
              Chain verified: {chain.events} events, every hash and link intact (checked {formatTime(chain.checkedAt)}).
            </Alert>
          ) : (
            <Alert>
              Chain broken at event {chain.firstBad.id} (#{chain.firstBad.seq}): {chain.firstBad.problem}.
            </Alert>
          )}
        </div>
      )}
      <Card>
        <form method="GET" className="grid grid-cols-1 gap-3 sm:grid-cols-2 md:grid-cols-3 xl:grid-cols-6" aria-label="Audit filters">
          <Field label="Search" htmlFor="q">
            <Input id="q" name="q" defaultValue={params.q} placeholder="any text" />
          </Field>
          <Field label="Kind" htmlFor="kind">
            <Select id="kind" name="kind" defaultValue={params.kind ?? ""}>
              <option value="">any</option>
              <option value="egress">egress</option>
              <option value="admin">admin</option>
              <option value="access">access</option>
            </Select>
          </Field>
          <Field label="Outcome" htmlFor="outcome">
            <Select id="outcome" name="outcome" defaultValue={params.outcome ?? ""}>
              <option value="">any</option>
              {["credentialed", "allowlisted", "blocked", "granted", "refused", "revoked", "locked"].map((o) => (
                <option key={o}>{o}</option>
              ))}
            </Select>
          </Field>
          <WouldBlockFilter checked={params.wouldBlock === "1"} />
          {TEXT_FILTERS.map(([name, label, type, placeholder]) => (
            <Field key={name} label={label} htmlFor={name}>
              <Input id={name} name={name} type={type} defaultValue={params[name]} placeholder={placeholder} />
            </Field>
          ))}
          <div className="flex items-end gap-2">
            <Button type="submit">Search</Button>
            <Link href="/audit" className="px-2 py-1.5 text-sm text-slate-600 hover:text-slate-900">
              Clear
            </Link>
          </div>
        </form>
      </Card>
      {error && (
        <div className="mt-4">
          <Alert>{error}</Alert>
        </div>
      )}
      <div className="mt-4">
        <Card>
          {result.events.length === 0 ? (
            <Empty>No events match.</Empty>
          ) : (
            <Table label="Audit events">
              <thead>
                <tr>
                  <Th>Time (UTC)</Th>
                  <Th>Outcome</Th>
                  <Th>Status</Th>
                  <Th>Action</Th>
                  <Th>Kind</Th>
                  <Th>Who</Th>
                  <Th>What</Th>
                </tr>
              </thead>
              <tbody className="divide-y divide-slate-100">
                {result.events.map((e) => (
                  <tr key={e.id} data-testid="audit-row" className={selected?.id === e.id ? "bg-sky-50" : "hover:bg-slate-50"}>
                    <Td className="font-mono text-xs">
                      <Link href={query(base, { cursor: params.cursor, event: e.id })} className="underline-offset-2 hover:underline">
                        {formatTime(e.ts).replace(" UTC", "")}
                      </Link>
                    </Td>
                    <Td>
                      <OutcomeBadge outcome={e.outcome} />
                    </Td>
                    <Td>{e.status ?? ""}</Td>
                    <Td className="font-mono text-xs">{e.action}</Td>
                    <Td>{e.kind}</Td>
                    <Td wrap>{e.member ?? e.actor ?? "—"}</Td>
                    <Td wrap className="max-w-md text-slate-600">
                      {describe(e)}
                      {/* In the list, only would-have-blocked requests: one step to the prefilled add form. */}
                      {isWouldBlock(e) && <GrantLinks event={e} owner={can(actor, "policy.write")} compact />}
                    </Td>
                  </tr>
                ))}
              </tbody>
            </Table>
          )}
          <div className="mt-3 flex justify-between text-sm">
            {params.cursor ? (
              <Link className="underline" href={query(base, {})}>
                ← Newest
              </Link>
            ) : (
              <span />
            )}
            {result.nextCursor && (
              <Link className="underline" href={query(base, { cursor: result.nextCursor })} data-testid="older">
                Older →
              </Link>
            )}
          </div>
        </Card>
      </div>
      {selected && (
        // The detail is a sheet over the table, so opening it never widens the page.
        // Non-modal and anchored low, so the filters, exports and rows stay usable while it is open.
        <div className="fixed bottom-0 right-0 z-40 w-full max-w-md" role="dialog" aria-label="Audit event">
          <div
            className="relative max-h-[70vh] overflow-y-auto rounded-tl-lg bg-white shadow-xl ring-1 ring-slate-200"
            data-testid="event-sheet"
          >
            <Card
              title="Event"
              className="rounded-none ring-0"
              actions={
                <Link href={query(base, { cursor: params.cursor })} className="text-sm text-slate-700 underline">
                  Close
                </Link>
              }
            >
              <div data-testid="event-detail" className="space-y-3 text-sm">
                <div className="flex flex-wrap items-center gap-2">
                  <Badge>{selected.kind}</Badge>
                  <code className="font-mono text-xs">{selected.action}</code>
                  <OutcomeBadge outcome={selected.outcome} />
                </div>
                <dl className="grid grid-cols-[7rem_minmax(0,1fr)] gap-x-3 gap-y-1 text-xs">
                  {(
                    [
                      ["Time", formatTime(selected.ts)],
                      ["Request", selected.requestId],
                      ["Session", selected.sessionId],
                      ["Workspace", selected.workspace],
                      ["Channel", selected.channel],
                      ["Thread", selected.thread],
                      ["Member", selected.member],
                      ["Actor", selected.actor],
                      ["Bundle", selected.bundle],
                      ["Connection", selected.connection],
                      ["Acts as", selected.serviceAccount],
                      ["Request line", selected.kind === "egress" ? describe(selected) : null],
                      ["Rule", selected.rule],
                      ["Reason", selected.reason],
                      ["Status", selected.status],
                      ["Bytes in/out", selected.bytesIn !== null ? `${selected.bytesIn} / ${selected.bytesOut}` : null],
                      ["Duration", selected.durationMs !== null ? `${selected.durationMs} ms` : null],
                      ["Hash", selected.hash],
                      ["Previous", selected.prevHash],
                    ] as [string, string | number | null][]
                  )
                    .filter(([, v]) => v !== null && v !== undefined && v !== "")
                    .map(([k, v]) => (
                      <div key={k} className="contents">
                        <dt className="text-slate-600">{k}</dt>
                        <dd className={cx("min-w-0 wrap-anywhere", MONO_FIELDS.has(k) && "font-mono")}>{String(v)}</dd>
                      </div>
                    ))}
                </dl>
                {selected.detail && (
                  <pre
                    className="max-h-64 overflow-auto whitespace-pre-wrap rounded bg-slate-50 p-2 text-xs wrap-anywhere"
                    tabIndex={0}
                    aria-label="Event detail JSON"
                  >
                    {JSON.stringify(selected.detail, null, 2)}
                  </pre>
                )}
                {selected.kind === "egress" && selected.workspace && selected.channel && selected.host && (
                  <Link
                    className="inline-block text-sm underline"
                    href={`/explain?channel=${encodeURIComponent(`${selected.workspace}/${selected.channel}`)}&method=${encodeURIComponent(selected.method === "CONNECT" ? "GET" : (selected.method ?? "GET"))}&url=${encodeURIComponent(`${selected.scheme ?? "https"}://${selected.host}${selected.port ? `:${selected.port}` : ""}${selected.path ?? "/"}`)}`}
                  >
                    Explain this request today →
                  </Link>
                )}
                <GrantLinks event={selected} owner={can(actor, "policy.write")} />
              </div>
            </Card>
          </div>
        </div>
      )}
    </>
  );
}
