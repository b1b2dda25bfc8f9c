// The audit event's shape and its canonical encoding. Actions are a closed union.
import crypto from "node:crypto";

export type AuditKind = "egress" | "admin" | "access";

export const AUDIT_ACTIONS = [
  // egress
  "egress.request",
  "egress.completed",
  // access
  "signin.succeeded",
  "signin.failed",
  "signin.locked",
  "signout",
  "session.granted",
  "session.refused",
  "session.revoked",
  "session.expired",
  "apikey.rejected",
  "sso.user_created",
  "sso.role_changed",
  "sso.user_removed",
  "totp.enabled",
  "totp.disabled",
  "totp.recovery_used",
  // admin
  "user.added",
  "user.removed",
  "user.role_changed",
  "user.password_changed",
  "user.unlocked",
  "owner.setup",
  "apikey.created",
  "apikey.revoked",
  "policy.imported",
  "bundle.created",
  "bundle.updated",
  "bundle.deleted",
  "connection.created",
  "connection.updated",
  "connection.deleted",
  "credential.set",
  "credential.replaced",
  "credential.revoked",
  "domain.added",
  "domain.removed",
  "org_deny.changed",
  "member_access.changed",
  "session_settings.changed",
  "channels.changed",
  "grant.added",
  "grant.extended",
  "grant.revoked",
  "grant.expired",
  "report_only.enabled",
  "report_only.disabled",
  "report_only.expired",
  "vault.key_rotated",
  "oidc_settings.changed",
  "password_signin.changed",
  "totp_required.changed",
  "journal.unreadable",
  "sink.added",
  "sink.removed",
  "audit_retention.changed",
  "audit.archived",
] as const;

export type AuditAction = (typeof AUDIT_ACTIONS)[number];

export type AuditEventInput = {
  kind: AuditKind;
  action: AuditAction;
  actor?: string | null;
  requestId?: string | null;
  sessionId?: string | null;
  workspace?: string | null;
  channel?: string | null;
  thread?: string | null;
  member?: string | null;
  bundle?: string | null;
  connection?: string | null;
  serviceAccount?: string | null;
  method?: string | null;
  scheme?: string | null;
  host?: string | null;
  port?: number | null;
  path?: string | null;
  outcome?: string | null;
  rule?: string | null;
  reason?: string | null;
  status?: number | null;
  bytesIn?: number | null;
  bytesOut?: number | null;
  durationMs?: number | null;
  /** Before/after and other context. Snapshots pick allowed fields; a secret appears only as "[write-only]". */
  detail?: Record<string, unknown> | null;
};

export type AuditRow = Required<{ [K in keyof Omit<AuditEventInput, "detail">]: Exclude<AuditEventInput[K], undefined> | null }> & {
  seq: number;
  id: string;
  ts: number;
  detail: string | null;
  prevHash: string;
  hash: string;
};

export const GENESIS_HASH = "0".repeat(64);

/** Field order of the canonical encoding; changing it invalidates every chain. */
export const HASHED_FIELDS = [
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
] as const;

export type HashedEvent = { [K in (typeof HASHED_FIELDS)[number]]: unknown };

/** JSON array of HASHED_FIELDS in order, absent values as null. Spelled out: it runs per event. */
export function canonicalEncoding(e: HashedEvent): string {
  return JSON.stringify([
    e.id ?? null,
    e.ts ?? null,
    e.kind ?? null,
    e.action ?? null,
    e.actor ?? null,
    e.requestId ?? null,
    e.sessionId ?? null,
    e.workspace ?? null,
    e.channel ?? null,
    e.thread ?? null,
    e.member ?? null,
    e.bundle ?? null,
    e.connection ?? null,
    e.serviceAccount ?? null,
    e.method ?? null,
    e.scheme ?? null,
    e.host ?? null,
    e.port ?? null,
    e.path ?? null,
    e.outcome ?? null,
    e.rule ?? null,
    e.reason ?? null,
    e.status ?? null,
    e.bytesIn ?? null,
    e.bytesOut ?? null,
    e.durationMs ?? null,
    e.detail ?? null,
    e.prevHash ?? null,
  ]);
}

export function eventHash(event: HashedEvent): string {
  return crypto.hash("sha256", canonicalEncoding(event), "hex");
}
