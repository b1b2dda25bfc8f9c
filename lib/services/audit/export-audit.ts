import { sql } from "drizzle-orm";
import { AUDIT_SELECT, whereClause, type AuditEventRow } from "../../../db/queries/audit";
import { rawAll } from "../../../db/raw";
import type { Actor } from "../../auth/permissions";
import { AppError } from "../../errors";
import { authorize } from "../authorize";
import type { ServiceContext } from "../context";
import { parseAuditQuery, toFilter } from "./search-audit";
import { importJournals } from "../../audit/journal";

export const CSV_COLUMNS = [
  "seq",
  "id",
  "ts",
  "kind",
  "action",
  "actor",
  "requestId",
  "sessionId",
  "workspace",
  "channel",
  "thread",
  "member",
  "bundle",
  "connection",
  "serviceAccount",
  "method",
  "scheme",
  "host",
  "port",
  "path",
  "outcome",
  "rule",
  "reason",
  "status",
  "bytesIn",
  "bytesOut",
  "durationMs",
  "detail",
  "prevHash",
  "hash",
] as const;

/** RFC 4180 quoting, and a leading quote on cells a spreadsheet would run as a formula. */
export function csvCell(value: unknown): string {
  if (value === null || value === undefined) return "";
  let s = String(value);
  if (/^[=+\-@\t\r]/.test(s)) s = "'" + s;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

function csvLine(row: AuditEventRow): string {
  return CSV_COLUMNS.map((c) => csvCell(c === "ts" ? new Date(row.ts).toISOString() : row[c])).join(",") + "\r\n";
}

function jsonLine(row: AuditEventRow): string {
  return JSON.stringify({ ...row, ts: new Date(row.ts).toISOString(), detail: row.detail ? JSON.parse(row.detail) : null }) + "\n";
}

export type AuditExport = { contentType: string; filename: string; lines: AsyncGenerator<string, void, undefined> };

/** Rows per query while exporting: memory stays flat whatever the log's size. */
const EXPORT_PAGE_ROWS = 1000;

/**
 * The audit events matching the filters, newest first, as a generator of lines. Rows are read
 * a page at a time below the last one sent (keyset on seq), so they stream without sitting in
 * memory and no connection is held between pages.
 */
export async function exportAudit({
  ctx,
  actor,
  input,
}: {
  ctx: ServiceContext;
  actor: Actor | null;
  input: Record<string, string | undefined>;
}): Promise<AuditExport> {
  authorize(actor, "audit.read");
  const format = input.format ?? "jsonl";
  if (format !== "jsonl" && format !== "csv") throw new AppError("invalid_field", "format: must be jsonl or csv", { field: "format" });
  const { limit: _limit, ...rest } = input;
  void _limit;
  const query = parseAuditQuery(rest);
  await importJournals(ctx.db, ctx.env.dataDir);
  const filter = toFilter(query);
  const stamp = new Date(ctx.now()).toISOString().replace(/[:.]/g, "-");
  const db = ctx.db;
  async function* lines(): AsyncGenerator<string, void, undefined> {
    if (format === "csv") yield CSV_COLUMNS.join(",") + "\r\n";
    let before = filter.before;
    for (;;) {
      const where = whereClause({ ...filter, before }, "filter", db.gh.dialect);
      const rows = await rawAll<AuditEventRow>(db, sql`${AUDIT_SELECT}${where} ORDER BY seq DESC LIMIT ${EXPORT_PAGE_ROWS}`);
      for (const row of rows) yield format === "csv" ? csvLine(row) : jsonLine(row);
      if (rows.length < EXPORT_PAGE_ROWS) return;
      before = rows[rows.length - 1]!.seq;
    }
  }
  return {
    contentType: format === "csv" ? "text/csv; charset=utf-8" : "application/x-ndjson; charset=utf-8",
    filename: `gatehouse-audit-${stamp}.${format}`,
    lines: lines(),
  };
}

/** Groups lines into chunks of about `size` bytes: fewer, larger writes. */
export async function* chunked(lines: AsyncIterable<string>, size = 64 * 1024): AsyncGenerator<string> {
  let buf = "";
  for await (const line of lines) {
    buf += line;
    if (buf.length >= size) {
      yield buf;
      buf = "";
    }
  }
  if (buf) yield buf;
}
