import { eq } from "drizzle-orm";
import { findSink } from "../../../db/queries/sinks";
import { writeTransaction } from "../../../db/tx";
import { appendAuditEvents } from "../../audit";
import { actorLabel, type Actor } from "../../auth/permissions";
import { AppError } from "../../errors";
import { authorize } from "../authorize";
import type { ServiceContext } from "../context";
import { sinkSnapshot } from "./sink-input";

/** Owner: removes a sink (by id or name); an audited change. Retention no longer waits for it. */
export async function removeSink({
  ctx,
  actor,
  input,
}: {
  ctx: ServiceContext;
  actor: Actor | null;
  input: { sink: string };
}): Promise<{ name: string }> {
  authorize(actor, "settings.write");
  const key = typeof input?.sink === "string" ? input.sink.trim().slice(0, 100) : "";
  const sink = key ? await findSink(ctx.db, key) : undefined;
  if (!sink) throw new AppError("not_found", `no sink "${key}"`);
  await writeTransaction(ctx.db, async (tx) => {
    await tx.delete(tx.t.auditSinks).where(eq(tx.t.auditSinks.id, sink.id));
    await appendAuditEvents(
      tx,
      [
        {
          kind: "admin",
          action: "sink.removed",
          actor: actorLabel(actor!),
          detail: { before: { ...sinkSnapshot(sink), deliveredThrough: sink.cursorSeq } },
        },
      ],
      ctx.now(),
    );
  });
  return { name: sink.name };
}
