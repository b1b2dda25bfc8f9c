import Database from "better-sqlite3";
import { databasePath } from "../../../db/client";
import { AUDIT_SELECT, type AuditEventRow } from "../../../db/queries/audit";
import type { Actor } from "../../auth/permissions";
import { AppError } from "../../errors";
import { authorize } from "../authorize";
import type { ServiceContext } from "../context";
import { auditWhere, parseAuditQuery, toFilter } from "./search-audit";
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

export type AuditExport = { contentType: string; filename: string; lines: Generator<string, void, undefined> };

/**
 * The audit events matching the filters, newest first, as a generator of lines. A dedicated
 * read-only connection holds the cursor, so rows stream without sitting in memory and the
 * shared connection stays free.
 */
export function exportAudit({
  ctx,
  actor,
  input,
}: {
  ctx: ServiceContext;
  actor: Actor | null;
  input: Record<string, string | undefined>;
}): AuditExport {
  authorize(actor, "audit.read");
  const format = input.format ?? "jsonl";
  if (format !== "jsonl" && format !== "csv") throw new AppError("invalid_field", "format: must be jsonl or csv", { field: "format" });
  const { limit: _limit, ...rest } = input;
  void _limit;
  const query = parseAuditQuery(rest);
  importJournals(ctx.db, ctx.env.dataDir);
  const where = auditWhere(toFilter(query));
  const stamp = new Date(ctx.now()).toISOString().replace(/[:.]/g, "-");
  function* lines(): Generator<string, void, undefined> {
    const db = new Database(databasePath(ctx.env.dataDir), { readonly: true, fileMustExist: true });
    try {
      if (format === "csv") yield CSV_COLUMNS.join(",") + "\r\n";
      const rows = db.prepare(`${AUDIT_SELECT}${where.sql} ORDER BY seq DESC`).iterate(...where.params) as IterableIterator<AuditEventRow>;
      for (const row of rows) yield format === "csv" ? csvLine(row) : jsonLine(row);
    } finally {
      db.close();
    }
  }
  return {
    contentType: format === "csv" ? "text/csv; charset=utf-8" : "application/x-ndjson; charset=utf-8",
    filename: `gatehouse-audit-${stamp}.${format}`,
    lines: lines(),
  };
}

/** Groups lines into chunks of about `size` bytes: fewer, larger writes. */
export function* chunked(lines: Iterable<string>, size = 64 * 1024): Generator<string> {
  let buf = "";
  for (const line of lines) {
    buf += line;
    if (buf.length >= size) {
      yield buf;
      buf = "";
    }
  }
  if (buf) yield buf;
}
