import { sqliteWriterOf } from "../../../db/client";
import crypto from "node:crypto";
import fs from "node:fs";
import { loadMasterKey, masterKeyPath, Vault } from "../../vault";
import { describe, expect, it } from "vitest";
import { processHolder, tryLease } from "../../audit/lease";
import { openSinkSecret } from "../../audit/stream/streamer";
import { listSinks as rows } from "../../../db/queries/sinks";
import { rotateMasterKey } from "../vault/rotate-master-key";
import { auditor, owner, testContext } from "../test-context";
import { addSink } from "./add-sink";
import { listSinks } from "./list-sinks";
import { removeSink } from "./remove-sink";

const SECRET = "whsec-unit-secret-not-real-1";

describe("sinks", () => {
  it("seals the signing secret, never returns it, and audits the change without it", async () => {
    const ctx = await testContext();
    await addSink({ ctx, actor: owner, input: { name: "siem", type: "webhook", url: "https://siem.example/ingest", secret: SECRET } });
    const view = await listSinks({ ctx, actor: owner });
    expect(view).toMatchObject([{ name: "siem", secretSet: true, cursorSeq: 0 }]);
    expect(JSON.stringify(view)).not.toContain(SECRET);
    const [row] = await rows(ctx.db);
    expect(row!.secretSealed).not.toContain(SECRET);
    expect(await openSinkSecret(ctx, row!)).toBe(SECRET);
    const events = JSON.stringify(sqliteWriterOf(ctx.db).prepare("SELECT * FROM audit_events").all());
    expect(events).toContain("sink.added");
    expect(events).toContain("[write-only]");
    expect(events).not.toContain(SECRET);
  });

  it("only an Owner may add, list or remove", async () => {
    const ctx = await testContext();
    await expect(addSink({ ctx, actor: auditor, input: { name: "x", type: "otlp", url: "http://c.example:4318" } })).rejects.toMatchObject({
      code: "forbidden",
    });
    await expect(listSinks({ ctx, actor: auditor })).rejects.toMatchObject({ code: "forbidden" });
    await expect(removeSink({ ctx, actor: auditor, input: { sink: "x" } })).rejects.toMatchObject({ code: "forbidden" });
  });

  it("names the field at fault", async () => {
    const ctx = await testContext();
    const bad = async (input: Record<string, unknown>) =>
      addSink({ ctx, actor: owner, input: { name: "s", type: "syslog", url: "tls://siem.example:6514", ...input } }).catch(
        (e: unknown) => e,
      );
    expect(await bad({ url: "udp://siem.example:514" })).toMatchObject({ field: "url" });
    expect(await bad({ url: "tls://siem.example" })).toMatchObject({ field: "url" });
    expect(await bad({ type: "webhook", url: "https://u:p@siem.example/" })).toMatchObject({ field: "url" });
    expect(await bad({ type: "webhook", url: "https://siem.example/?token=x", secret: SECRET })).toMatchObject({ field: "url" });
    expect(await bad({ type: "webhook", url: "https://siem.example/", secret: "short" })).toMatchObject({ field: "secret" });
    expect(await bad({ secret: SECRET })).toMatchObject({ field: "secret" });
    expect(await bad({ format: "cef" })).toMatchObject({ field: "format" });
    expect(await bad({ name: "" })).toMatchObject({ field: "name" });
  });

  it("starts a sink at the head when asked, and a removal is audited", async () => {
    const ctx = await testContext();
    await addSink({ ctx, actor: owner, input: { name: "a", type: "otlp", url: "http://c.example:4318" } });
    await addSink({ ctx, actor: owner, input: { name: "b", type: "otlp", url: "http://c.example:4318", startAt: "now" } });
    const [a, b] = await listSinks({ ctx, actor: owner });
    expect(a!.cursorSeq).toBe(0);
    expect(b!.cursorSeq).toBe(1);
    expect(b!.lag.events).toBe(1); // its own sink.added
    await removeSink({ ctx, actor: owner, input: { sink: "a" } });
    expect((await listSinks({ ctx, actor: owner })).map((s) => s.name)).toEqual(["b"]);
    await expect(removeSink({ ctx, actor: owner, input: { sink: "a" } })).rejects.toMatchObject({ code: "not_found" });
  });

  it("a master-key rotation re-seals the signing secret", async () => {
    const ctx = await testContext();
    await addSink({ ctx, actor: owner, input: { name: "siem", type: "webhook", url: "https://siem.example/ingest", secret: SECRET } });
    const next = crypto.randomBytes(32);
    await rotateMasterKey({ ctx, actor: owner, newKey: next });
    ctx.vault.rekey(next);
    expect(await openSinkSecret(ctx, (await rows(ctx.db))[0]!)).toBe(SECRET);
  });

  it("a sender whose key is stale follows a rotation made by another process", async () => {
    const ctx = await testContext();
    await addSink({ ctx, actor: owner, input: { name: "siem", type: "webhook", url: "https://siem.example/ingest", secret: SECRET } });
    const stale = { ...ctx, vault: new Vault(loadMasterKey(ctx.env.dataDir, undefined).key) };
    const next = crypto.randomBytes(32);
    await rotateMasterKey({ ctx, actor: owner, newKey: next });
    fs.writeFileSync(masterKeyPath(ctx.env.dataDir), next.toString("base64") + "\n", { mode: 0o600 });
    expect(await openSinkSecret(stale, (await rows(ctx.db))[0]!)).toBe(SECRET);
  });

  it("gives the stream lease to one holder until it expires", async () => {
    const ctx = await testContext();
    expect(await tryLease(ctx.db, "audit-stream", processHolder, 1000, 0)).toBe(true);
    expect(await tryLease(ctx.db, "audit-stream", "other", 1000, 500)).toBe(false);
    expect(await tryLease(ctx.db, "audit-stream", processHolder, 1000, 900)).toBe(true);
    expect(await tryLease(ctx.db, "audit-stream", "other", 1000, 2000)).toBe(true);
    expect(await tryLease(ctx.db, "audit-stream", processHolder, 1000, 2100)).toBe(false);
  });
});
