import { z } from "zod";
import { findAuditEvent, searchAuditEvents, whereClause, type AuditEventRow, type AuditFilter } from "../../../db/queries/audit";

export const auditWhere = whereClause;
import type { Actor } from "../../auth/permissions";
import { AppError } from "../../errors";
import { authorize } from "../authorize";
import type { ServiceContext } from "../context";
import { firstIssue } from "../validation";
import { importJournals } from "../../audit/journal";

const time = z
  .string()
  .optional()
  .transform((v, ctx) => {
    if (!v) return undefined;
    const n = /^\d+$/.test(v) ? Number(v) : Date.parse(v);
    if (!Number.isFinite(n)) {
      ctx.addIssue({ code: "custom", message: "is not a time (ISO 8601 or epoch milliseconds)" });
      return z.NEVER;
    }
    return n;
  });

const text = z.string().max(256).optional();

export const AuditQuery = z.object({
  q: text,
  kind: z
    .enum(["egress", "admin", "access"])
    .optional()
    .or(z.literal("").transform(() => undefined)),
  outcome: text,
  host: text,
  workspace: text,
  channel: text,
  member: text,
  actor: text,
  connection: text,
  action: text,
  /** `1` or `true`: only requests report-only mode let out that would have been blocked. */
  wouldBlock: z
    .enum(["1", "true", "0", "false"])
    .optional()
    .transform((v) => v === "1" || v === "true" || undefined),
  from: time,
  to: time,
  limit: z.coerce.number().int().min(1).max(500).default(50),
  cursor: z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (!v) return undefined;
      if (!/^\d+$/.test(v)) {
        ctx.addIssue({ code: "custom", message: "is not a cursor from a previous page" });
        return z.NEVER;
      }
      return Number(v);
    }),
});
export type AuditQuery = z.infer<typeof AuditQuery>;

export type AuditEvent = Omit<AuditEventRow, "detail"> & { detail: Record<string, unknown> | null };

export function toAuditEvent(row: AuditEventRow): AuditEvent {
  return { ...row, detail: row.detail ? (JSON.parse(row.detail) as Record<string, unknown>) : null };
}

export function parseAuditQuery(params: Record<string, string | undefined>): AuditQuery {
  const cleaned = Object.fromEntries(Object.entries(params).filter(([, v]) => v !== undefined && v !== ""));
  const parsed = AuditQuery.safeParse(cleaned);
  if (!parsed.success) throw firstIssue(parsed.error);
  if (parsed.data.from !== undefined && parsed.data.to !== undefined && parsed.data.from > parsed.data.to) {
    throw new AppError("invalid_field", "from: is after to", { field: "from" });
  }
  return parsed.data;
}

export function toFilter(q: AuditQuery): AuditFilter {
  return {
    q: q.q,
    kind: q.kind,
    outcome: q.outcome,
    host: q.host,
    workspace: q.workspace,
    channel: q.channel,
    member: q.member,
    actor: q.actor,
    connection: q.connection,
    action: q.action,
    wouldBlock: q.wouldBlock,
    from: q.from,
    to: q.to,
    before: q.cursor,
  };
}

/** Newest first; `nextCursor` continues where this page ended. */
export async function searchAudit({
  ctx,
  actor,
  input,
}: {
  ctx: ServiceContext;
  actor: Actor | null;
  input: Record<string, string | undefined>;
}): Promise<{ events: AuditEvent[]; nextCursor: string | null }> {
  authorize(actor, "audit.read");
  const q = parseAuditQuery(input);
  await importJournals(ctx.db, ctx.env.dataDir);
  const rows = await searchAuditEvents(ctx.db, toFilter(q), q.limit + 1);
  const page = rows.slice(0, q.limit);
  return { events: page.map(toAuditEvent), nextCursor: rows.length > q.limit ? String(page[page.length - 1]!.seq) : null };
}

export async function getAuditEvent({ ctx, actor, id }: { ctx: ServiceContext; actor: Actor | null; id: string }): Promise<AuditEvent> {
  authorize(actor, "audit.read");
  await importJournals(ctx.db, ctx.env.dataDir);
  const row = await findAuditEvent(ctx.db, id);
  if (!row) throw new AppError("not_found", `no audit event ${id}`);
  return toAuditEvent(row);
}
