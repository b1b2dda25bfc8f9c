import { eq } from "drizzle-orm";
import { bumpPolicyRevision } from "../../../db/queries/policy";
import { credentials, orgSettings, users } from "../../../db/schema";
import { writeTransaction } from "../../../db/tx";
import { appendAuditEvents } from "../../audit";
import { actorLabel, type Actor } from "../../auth/permissions";
import { AppError } from "../../errors";
import { CA_KEY_AAD, Vault } from "../../vault";
import { authorize } from "../authorize";
import type { ServiceContext } from "../context";
import { OIDC_SECRET_AAD } from "../sso/oidc-config";
import { totpAad } from "../totp/totp";
import { sinkSecretAad } from "../../audit/stream/streamer";

/**
 * Re-seals every credential, the CA key, the IdP client secret, the TOTP secrets and the audit sinks' signing secrets under a new master key, all or nothing: one
 * transaction, and the key check moves with it. Plaintext exists only for the re-seal.
 */
export async function rotateMasterKey({
  ctx,
  actor,
  newKey,
}: {
  ctx: ServiceContext;
  actor: Actor | null;
  newKey: Buffer;
}): Promise<{ credentials: number }> {
  authorize(actor, "settings.write");
  const next = new Vault(newKey);
  const now = ctx.now();
  return await writeTransaction(ctx.db, async () => {
    const settings = ctx.db.select().from(orgSettings).where(eq(orgSettings.id, 1)).get();
    if (!settings?.keyCheck || !ctx.vault.verifyKeyCheck(settings.keyCheck))
      throw new AppError("conflict", "the current master key does not open the data; nothing was changed");
    const rows = ctx.db.select({ identity: credentials.identity, sealed: credentials.sealed }).from(credentials).all();
    for (const row of rows) {
      const plain = ctx.vault.openBytes(row.sealed, row.identity);
      ctx.db
        .update(credentials)
        .set({ sealed: next.seal(plain, row.identity) })
        .where(eq(credentials.identity, row.identity))
        .run();
      plain.fill(0);
    }
    let caKeySealed = settings.caKeySealed;
    if (caKeySealed) {
      const plain = ctx.vault.openBytes(caKeySealed, CA_KEY_AAD);
      caKeySealed = next.seal(plain, CA_KEY_AAD);
      plain.fill(0);
    }
    let oidcClientSecretSealed = settings.oidcClientSecretSealed;
    if (oidcClientSecretSealed) {
      const plain = ctx.vault.openBytes(oidcClientSecretSealed, OIDC_SECRET_AAD);
      oidcClientSecretSealed = next.seal(plain, OIDC_SECRET_AAD);
      plain.fill(0);
    }
    const reseal = (sealed: string | null, aad: string) => {
      if (!sealed) return sealed;
      const plain = ctx.vault.openBytes(sealed, aad);
      const out = next.seal(plain, aad);
      plain.fill(0);
      return out;
    };
    const totpRows = ctx.db.select({ id: users.id, secret: users.totpSecretSealed, pending: users.totpPendingSealed }).from(users).all();
    for (const row of totpRows) {
      if (!row.secret && !row.pending) continue;
      const aad = totpAad(row.id);
      ctx.db
        .update(users)
        .set({ totpSecretSealed: reseal(row.secret, aad), totpPendingSealed: reseal(row.pending, aad) })
        .where(eq(users.id, row.id))
        .run();
    }
    const sinkRows = ctx.db.$client
      .prepare("SELECT id, secret_sealed AS sealed FROM audit_sinks WHERE secret_sealed IS NOT NULL")
      .all() as { id: string; sealed: string }[];
    for (const row of sinkRows) {
      ctx.db.$client
        .prepare("UPDATE audit_sinks SET secret_sealed = ? WHERE id = ?")
        .run(reseal(row.sealed, sinkSecretAad(row.id)), row.id);
    }
    ctx.db
      .update(orgSettings)
      .set({ keyCheck: next.makeKeyCheck(), caKeySealed, oidcClientSecretSealed })
      .where(eq(orgSettings.id, 1))
      .run();
    await appendAuditEvents(
      ctx.db,
      [
        {
          kind: "admin",
          action: "vault.key_rotated",
          actor: actorLabel(actor),
          detail: { after: { credentialsResealed: rows.length, caKeyResealed: !!caKeySealed } },
        },
      ],
      now,
    );
    await bumpPolicyRevision(ctx.db);
    return { credentials: rows.length };
  });
}
