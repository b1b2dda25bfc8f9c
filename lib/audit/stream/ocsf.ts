// OCSF (1.3) renderings: HTTP Activity (4002) for egress, Authentication (3002) for access
// events, API Activity (6003) for admin changes. The chain fields ride in `unmapped.gatehouse`,
// the event id in metadata.uid, so an OCSF consumer can still de-duplicate and verify.
import { gatehouseJson, type StreamEvent } from "./event";

const OCSF_VERSION = "1.3.0";
const PRODUCT = { name: "Gatehouse", vendor_name: "Gatehouse", feature: { name: "audit" } };

const HTTP_ACTIVITY: Record<string, [number, string]> = {
  CONNECT: [1, "Connect"],
  DELETE: [2, "Delete"],
  GET: [3, "Get"],
  HEAD: [4, "Head"],
  OPTIONS: [5, "Options"],
  POST: [6, "Post"],
  PUT: [7, "Put"],
  TRACE: [8, "Trace"],
  PATCH: [9, "Patch"],
};

function base(
  e: StreamEvent,
  classUid: number,
  className: string,
  categoryUid: number,
  categoryName: string,
  activityId: number,
  activityName: string,
) {
  return {
    class_uid: classUid,
    class_name: className,
    category_uid: categoryUid,
    category_name: categoryName,
    activity_id: activityId,
    activity_name: activityName,
    type_uid: classUid * 100 + activityId,
    time: e.ts,
    metadata: {
      version: OCSF_VERSION,
      uid: e.id,
      product: PRODUCT,
      log_name: "audit",
      sequence: e.seq,
      ...(e.requestId ? { correlation_uid: e.requestId } : {}),
    },
    unmapped: { gatehouse: gatehouseJson(e) },
  };
}

function parsedDetail(e: StreamEvent): unknown {
  if (!e.detail) return null;
  try {
    return JSON.parse(e.detail);
  } catch {
    return e.detail;
  }
}

function egress(e: StreamEvent) {
  const method = (e.method ?? "").toUpperCase();
  const [activityId, activityName] = HTTP_ACTIVITY[method] ?? [99, "Other"];
  const blocked = e.outcome === "blocked";
  const failed = blocked || (e.status != null && e.status >= 500);
  return {
    ...base(e, 4002, "HTTP Activity", 4, "Network Activity", activityId, activityName),
    severity_id: blocked ? 3 : 1,
    severity: blocked ? "Medium" : "Informational",
    status_id: failed ? 2 : 1,
    status: failed ? "Failure" : "Success",
    action_id: blocked ? 2 : 1,
    action: blocked ? "Denied" : "Allowed",
    disposition_id: blocked ? 2 : 1,
    disposition: blocked ? "Blocked" : "Allowed",
    ...(e.reason ? { status_detail: e.reason } : {}),
    http_request: {
      http_method: method || undefined,
      url: { scheme: e.scheme ?? undefined, hostname: e.host ?? undefined, port: e.port ?? undefined, path: e.path ?? undefined },
      uid: e.requestId ?? undefined,
    },
    ...(e.status != null ? { http_response: { code: e.status } } : {}),
    dst_endpoint: { hostname: e.host ?? undefined, port: e.port ?? undefined },
    actor: { user: e.member ? { uid: e.member } : undefined, session: e.sessionId ? { uid: e.sessionId } : undefined },
    traffic: { bytes_in: e.bytesIn ?? undefined, bytes_out: e.bytesOut ?? undefined },
    ...(e.durationMs != null ? { duration: e.durationMs } : {}),
  };
}

const LOGOFF = new Set(["signout", "session.revoked", "session.expired"]);
const FAILED = new Set(["signin.failed", "signin.locked", "session.refused", "apikey.rejected"]);

function access(e: StreamEvent) {
  const logoff = LOGOFF.has(e.action);
  const logon =
    e.action.startsWith("signin.") ||
    e.action === "session.granted" ||
    e.action === "session.refused" ||
    e.action === "apikey.rejected" ||
    e.action === "totp.recovery_used";
  const [activityId, activityName] = logoff ? [2, "Logoff"] : logon ? [1, "Logon"] : [99, "Other"];
  const failed = FAILED.has(e.action);
  const detail = parsedDetail(e) as Record<string, unknown> | null;
  const who = e.member ?? e.actor ?? (typeof detail?.email === "string" ? detail.email : undefined);
  return {
    ...base(e, 3002, "Authentication", 3, "Identity & Access Management", activityId, activityName),
    severity_id: failed ? 3 : 1,
    severity: failed ? "Medium" : "Informational",
    status_id: failed ? 2 : 1,
    status: failed ? "Failure" : "Success",
    ...(e.reason ? { status_detail: e.reason } : {}),
    user: who ? { name: who, ...(e.member ? { uid: e.member } : {}) } : undefined,
    ...(e.sessionId ? { session: { uid: e.sessionId } } : {}),
    message: e.action,
  };
}

function apiActivity(action: string): [number, string] {
  if (/\.(added|created|set|setup|enabled)$/.test(action)) return [1, "Create"];
  if (/\.(removed|deleted|revoked|disabled)$/.test(action)) return [4, "Delete"];
  if (/\.(changed|updated|replaced|imported|key_rotated|unlocked|password_changed|role_changed|archived)$/.test(action))
    return [3, "Update"];
  return [99, "Other"];
}

function admin(e: StreamEvent) {
  const [activityId, activityName] = apiActivity(e.action);
  return {
    ...base(e, 6003, "API Activity", 6, "Application Activity", activityId, activityName),
    severity_id: 1,
    severity: "Informational",
    status_id: 1,
    status: "Success",
    actor: { user: { name: e.actor ?? "unknown" } },
    api: { operation: e.action, service: { name: "gatehouse" } },
    src_endpoint: {},
    message: e.action,
  };
}

/** The OCSF object for one event; the class follows the event's kind. */
export function toOcsf(e: StreamEvent): Record<string, unknown> {
  return e.kind === "egress" ? egress(e) : e.kind === "access" ? access(e) : admin(e);
}
