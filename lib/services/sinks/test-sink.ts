import crypto from "node:crypto";
import { findSink } from "../../../db/queries/sinks";
import { GENESIS_HASH } from "../../audit";
import { deliver, DeliveryError } from "../../audit/stream/deliver";
import type { StreamEvent } from "../../audit/stream/event";
import { openSinkSecret } from "../../audit/stream/streamer";
import { actorLabel, type Actor } from "../../auth/permissions";
import { AppError } from "../../errors";
import { authorize } from "../authorize";
import type { ServiceContext } from "../context";

/**
 * Owner: sends one test event (seq 0, outside the chain, detail {"test":true}) to a sink now and
 * says whether it arrived. It does not move the sink's cursor.
 */
export async function testSink({
  ctx,
  actor,
  input,
}: {
  ctx: ServiceContext;
  actor: Actor | null;
  input: { sink: string };
}): Promise<{ ok: true } | { ok: false; error: string }> {
  authorize(actor, "settings.write");
  const key = typeof input?.sink === "string" ? input.sink.trim().slice(0, 100) : "";
  const sink = key ? await findSink(ctx.db, key) : undefined;
  if (!sink) throw new AppError("not_found", `no sink "${key}"`);
  const now = ctx.now();
  const event: StreamEvent = {
    seq: 0,
    id: `test-${crypto.randomBytes(6).toString("hex")}`,
    ts: now,
    kind: "admin",
    action: "sink.test",
    actor: actorLabel(actor!),
    requestId: null,
    sessionId: null,
    workspace: null,
    channel: null,
    thread: null,
    member: null,
    bundle: null,
    connection: null,
    serviceAccount: null,
    method: null,
    scheme: null,
    host: null,
    port: null,
    path: null,
    outcome: null,
    rule: null,
    reason: null,
    status: null,
    bytesIn: null,
    bytesOut: null,
    durationMs: null,
    detail: JSON.stringify({ test: true, sink: sink.name }),
    prevHash: GENESIS_HASH,
    hash: GENESIS_HASH,
  };
  try {
    await deliver({ type: sink.type, format: sink.format, url: sink.url }, [event], {
      secret: await openSinkSecret(ctx, sink),
      timeoutMs: 10_000,
      caPath: ctx.env.upstreamCaPath,
    });
    return { ok: true };
  } catch (err) {
    return { ok: false, error: err instanceof DeliveryError ? err.message : "delivery failed" };
  }
}
