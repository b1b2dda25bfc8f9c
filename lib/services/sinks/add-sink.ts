import crypto from "node:crypto";
import { auditHead, listSinks } from "../../../db/queries/sinks";
import { writeTransaction } from "../../../db/tx";
import { appendAuditEvents } from "../../audit";
import { sinkSecretAad } from "../../audit/stream/streamer";
import { actorLabel, type Actor } from "../../auth/permissions";
import { followKeyRotation } from "../../bootstrap";
import { AppError } from "../../errors";
import { authorize } from "../authorize";
import type { ServiceContext } from "../context";
import { checkSecret } from "../credentials/store-credential";
import { firstIssue } from "../validation";
import { MAX_SINKS, SinkInput, sinkSnapshot } from "./sink-input";

/**
 * Owner: adds a sink. It starts from the oldest live event (or from now), the signing secret is
 * sealed like a credential, and the addition is an audited change in the same transaction.
 */
export async function addSink({
  ctx,
  actor,
  input,
}: {
  ctx: ServiceContext;
  actor: Actor | null;
  input: unknown;
}): Promise<{ id: string; name: string }> {
  authorize(actor, "settings.write");
  const parsed = SinkInput.safeParse(input);
  if (!parsed.success) throw firstIssue(parsed.error);
  const p = parsed.data;
  if (p.secret) {
    try {
      checkSecret(p.secret);
    } catch (err) {
      if (err instanceof AppError)
        throw new AppError("invalid_field", err.message, {
          field: "secret",
          fields: [{ field: "secret", message: err.message.replace(/^secret: /, "") }],
        });
      throw err;
    }
  }
  if (!(await followKeyRotation(ctx.db, ctx.vault, ctx.env)))
    throw new AppError("conflict", "the master key changed and this process cannot load the new one; restart Gatehouse");
  const existing = await listSinks(ctx.db);
  if (existing.length >= MAX_SINKS) throw new AppError("conflict", `at most ${MAX_SINKS} sinks`);
  if (existing.some((s) => s.name.toLowerCase() === p.name.toLowerCase()))
    throw new AppError("invalid_field", "name: a sink by this name exists", {
      field: "name",
      fields: [{ field: "name", message: "a sink by this name exists" }],
    });
  const head = p.startAt === "now" ? await auditHead(ctx.db) : null;
  const id = crypto.randomBytes(8).toString("hex");
  const now = ctx.now();
  await writeTransaction(ctx.db, async (tx) => {
    const secretSealed = p.secret ? ctx.vault.seal(p.secret, sinkSecretAad(id)) : null;
    await tx.insert(tx.t.auditSinks).values({
      id,
      name: p.name,
      type: p.type,
      format: p.format,
      url: p.url,
      secretSealed,
      cursorSeq: head?.seq ?? 0,
      createdBy: actorLabel(actor!),
      createdAt: now,
    });
    await appendAuditEvents(
      tx,
      [
        {
          kind: "admin",
          action: "sink.added",
          actor: actorLabel(actor!),
          detail: { after: { ...sinkSnapshot({ ...p, secretSealed }), startAt: p.startAt } },
        },
      ],
      now,
    );
  });
  return { id, name: p.name };
}
