import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { eventHash, GENESIS_HASH, type HashedEvent } from "../events";
import { parseStreamTiming } from "./config";
import { jsonLines, otlpBody, signBody } from "./deliver";
import type { StreamEvent } from "./event";
import { toOcsf } from "./ocsf";
import { backoffDelay } from "./streamer";
import { octetFrame, parseSyslog, SD_ID, splitOctetFrames, syslogMessage } from "./syslog";

function ev(over: Partial<StreamEvent> = {}): StreamEvent {
  const base = {
    seq: 7,
    id: "00018f-abc-000001",
    ts: Date.UTC(2026, 10, 30, 1, 2, 3, 456),
    kind: "egress",
    action: "egress.request",
    actor: null,
    requestId: "req-1",
    sessionId: "s1",
    workspace: "T1",
    channel: "C1",
    thread: "t",
    member: "U1",
    bundle: "b",
    connection: "gh",
    serviceAccount: "bot",
    method: "GET",
    scheme: "https",
    host: "api.example.com",
    port: 443,
    path: "/repos",
    outcome: "credentialed",
    rule: "connection:b/gh",
    reason: "ok",
    status: 200,
    bytesIn: 10,
    bytesOut: 20,
    durationMs: 5,
    detail: null,
    prevHash: GENESIS_HASH,
    ...over,
  } as Omit<StreamEvent, "hash">;
  return { ...base, hash: eventHash(base as unknown as HashedEvent), ...("hash" in over ? { hash: over.hash! } : {}) } as StreamEvent;
}

describe("RFC 5424 over octet counting", () => {
  it("renders a header, the chain fields as structured data and a BOM'd UTF-8 MSG", () => {
    const e = ev();
    const m = syslogMessage(e, '{"x":"é"}', "gw1", 42);
    expect(m).toBe(
      `<110>1 2026-11-30T01:02:03.456Z gw1 gatehouse 42 egress.request [${SD_ID} id="${e.id}" seq="7" hash="${e.hash}" prevHash="${GENESIS_HASH}" kind="egress"] \uFEFF{"x":"é"}`,
    );
    const p = parseSyslog(m);
    expect(p).toMatchObject({
      pri: 110,
      version: 1,
      hostname: "gw1",
      appName: "gatehouse",
      procId: "42",
      msgId: "egress.request",
      msg: '{"x":"é"}',
    });
    expect(p.sd[SD_ID]).toEqual({ id: e.id, seq: "7", hash: e.hash, prevHash: GENESIS_HASH, kind: "egress" });
  });
  it("gives blocked requests and failed sign-ins notice severity", () => {
    expect(syslogMessage(ev({ outcome: "blocked" }), "{}").startsWith("<109>1 ")).toBe(true);
    expect(syslogMessage(ev({ kind: "access", action: "signin.failed", outcome: null }), "{}").startsWith("<109>1 ")).toBe(true);
  });
  it("counts octets, not characters, and splits a stream back into messages", () => {
    const a = syslogMessage(ev(), "ü€");
    const b = syslogMessage(ev({ seq: 8 }), "x");
    const buf = Buffer.concat([octetFrame(a), octetFrame(b)]);
    expect(buf.subarray(0, buf.indexOf(0x20)).toString()).toBe(String(Buffer.byteLength(a)));
    const cut = splitOctetFrames(buf.subarray(0, buf.length - 3));
    expect(cut.frames).toEqual([a]);
    expect(splitOctetFrames(buf).frames).toEqual([a, b]);
  });
  it("escapes any id, hash or kind so the structured data always parses back", () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), (id, kind) => {
        const p = parseSyslog(syslogMessage(ev({ id, kind }), "m"));
        expect(p.sd[SD_ID]!.id).toBe(id);
        expect(p.sd[SD_ID]!.kind).toBe(kind);
      }),
    );
  });
  it("keeps MSGID within 32 printable characters", () => {
    const p = parseSyslog(syslogMessage(ev({ action: "x y\u0000".repeat(20) }), "m"));
    expect(p.msgId).toMatch(/^[\x21-\x7e]{1,32}$/);
  });
  it("refuses a frame without a sane length", () => {
    expect(() => splitOctetFrames(Buffer.from("01 x"))).toThrow(/bad length/);
    expect(() => splitOctetFrames(Buffer.from("99999999 x"), 1000)).toThrow(/too long/);
  });
});

describe("OCSF", () => {
  it("maps egress to HTTP Activity 4002 with the method's activity", () => {
    const e = ev({ method: "POST" });
    const o = toOcsf(e) as Record<string, any>;
    expect(o).toMatchObject({ class_uid: 4002, category_uid: 4, activity_id: 6, type_uid: 400206, disposition_id: 1, time: ev().ts });
    expect(o.http_request.url).toMatchObject({ hostname: "api.example.com", port: 443, path: "/repos", scheme: "https" });
    expect(o.http_response).toEqual({ code: 200 });
    expect(o.metadata).toMatchObject({ uid: ev().id, sequence: 7, correlation_uid: "req-1" });
    expect(o.unmapped.gatehouse).toMatchObject({ id: e.id, hash: e.hash, prevHash: GENESIS_HASH });
  });
  it("marks a blocked request as denied", () => {
    expect(toOcsf(ev({ outcome: "blocked", status: null }))).toMatchObject({ action_id: 2, disposition_id: 2, status_id: 2 });
  });
  it("maps sign-ins to Authentication 3002 (logon, failure) and sign-outs to logoff", () => {
    expect(toOcsf(ev({ kind: "access", action: "signin.failed", actor: "a@example.com", member: null }))).toMatchObject({
      class_uid: 3002,
      activity_id: 1,
      type_uid: 300201,
      status_id: 2,
      user: { name: "a@example.com" },
    });
    expect(toOcsf(ev({ kind: "access", action: "signin.succeeded", actor: "a@example.com", member: null }))).toMatchObject({
      class_uid: 3002,
      activity_id: 1,
      status_id: 1,
    });
    expect(toOcsf(ev({ kind: "access", action: "signout" }))).toMatchObject({ class_uid: 3002, activity_id: 2 });
  });
  it("maps admin changes to API Activity 6003 by verb", () => {
    expect(toOcsf(ev({ kind: "admin", action: "sink.added", actor: "o@example.com" }))).toMatchObject({
      class_uid: 6003,
      category_uid: 6,
      activity_id: 1,
      api: { operation: "sink.added" },
      actor: { user: { name: "o@example.com" } },
    });
    expect(toOcsf(ev({ kind: "admin", action: "credential.revoked" }))).toMatchObject({ activity_id: 4 });
    expect(toOcsf(ev({ kind: "admin", action: "policy.imported" }))).toMatchObject({ activity_id: 3 });
  });
});

describe("batches", () => {
  it("JSON Lines carry every hashed field, so a receiver re-computes each event's hash", () => {
    const e = ev({ detail: JSON.stringify({ after: { x: 1 } }) });
    const line = JSON.parse(jsonLines("json", [e]).trimEnd());
    expect(eventHash(line)).toBe(e.hash);
  });
  it("signs the exact body with HMAC-SHA256", () => {
    expect(signBody("test-secret-not-real", "a\n")).toMatch(/^sha256=[0-9a-f]{64}$/);
    expect(signBody("test-secret-not-real", "a\n")).not.toBe(signBody("test-secret-not-real", "b\n"));
  });
  it("OTLP JSON: one log record per event, ids and hashes as attributes, nanosecond times as strings", () => {
    const body = JSON.parse(otlpBody("ocsf", [ev(), ev({ seq: 8 })]));
    const records = body.resourceLogs[0].scopeLogs[0].logRecords;
    expect(records).toHaveLength(2);
    expect(records[0].timeUnixNano).toBe(`${ev().ts}000000`);
    expect(records[1].attributes).toContainEqual({ key: "gatehouse.event.seq", value: { intValue: "8" } });
    expect(JSON.parse(records[0].body.stringValue).class_uid).toBe(4002);
  });
});

describe("pacing", () => {
  it("backs off exponentially up to the cap", () => {
    const t = { backoffMs: 1000, backoffMaxMs: 8000 };
    expect(backoffDelay(1, t, () => 1)).toBe(1000);
    expect(backoffDelay(3, t, () => 1)).toBe(4000);
    expect(backoffDelay(30, t, () => 1)).toBe(8000);
    expect(backoffDelay(30, t, () => 0)).toBe(4000);
  });
  it("reads GATEHOUSE_AUDIT_STREAM and refuses nonsense", () => {
    expect(parseStreamTiming("poll=100ms,backoff-max=2s,batch=50")).toMatchObject({
      pollMs: 100,
      backoffMaxMs: 2000,
      batch: 50,
      backoffMs: 1000,
    });
    expect(() => parseStreamTiming("poll=fast")).toThrow(/duration/);
    expect(() => parseStreamTiming("nope=1s")).toThrow(/not a setting/);
    expect(() => parseStreamTiming("backoff=10s,backoff-max=1s")).toThrow(/backoff-max/);
  });
});
