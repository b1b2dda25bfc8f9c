// What a sink receives per audit event: every hashed field in its stored form plus seq and hash,
// so a receiver can de-duplicate by id and re-check the chain itself (events.ts canonicalEncoding).
import type { AuditEventRow } from "../../../db/queries/audit";

export type StreamEvent = AuditEventRow;

export type SinkFormat = "json" | "ocsf";
export type SinkType = "syslog" | "webhook" | "otlp";

/** Gatehouse's own JSON: the stored row, ts also as RFC 3339, detail as stored (the hash covers that string). */
export function gatehouseJson(e: StreamEvent): Record<string, unknown> {
  return {
    seq: e.seq,
    id: e.id,
    ts: e.ts,
    time: new Date(e.ts).toISOString(),
    kind: e.kind,
    action: e.action,
    actor: e.actor,
    requestId: e.requestId,
    sessionId: e.sessionId,
    workspace: e.workspace,
    channel: e.channel,
    thread: e.thread,
    member: e.member,
    bundle: e.bundle,
    connection: e.connection,
    serviceAccount: e.serviceAccount,
    method: e.method,
    scheme: e.scheme,
    host: e.host,
    port: e.port,
    path: e.path,
    outcome: e.outcome,
    rule: e.rule,
    reason: e.reason,
    status: e.status,
    bytesIn: e.bytesIn,
    bytesOut: e.bytesOut,
    durationMs: e.durationMs,
    detail: e.detail,
    prevHash: e.prevHash,
    hash: e.hash,
  };
}
