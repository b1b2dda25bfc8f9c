import { eq, isNotNull } from "drizzle-orm";
import { bumpPolicyRevision } from "../../../db/queries/policy";
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
  return await writeTransaction(ctx.db, async (tx) => {
    const { credentials, orgSettings, users, auditSinks } = tx.t;
    const settings = (await tx.select().from(orgSettings).where(eq(orgSettings.id, 1)))[0];
    if (!settings?.keyCheck || !ctx.vault.verifyKeyCheck(settings.keyCheck))
      throw new AppError("conflict", "the current master key does not open the data; nothing was changed");
    const rows = await tx.select({ identity: credentials.identity, sealed: credentials.sealed }).from(credentials);
    for (const row of rows) {
      const plain = ctx.vault.openBytes(row.sealed, row.identity);
      await tx
        .update(credentials)
        .set({ sealed: next.seal(plain, row.identity) })
        .where(eq(credentials.identity, row.identity));
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
    const totpRows = await tx.select({ id: users.id, secret: users.totpSecretSealed, pending: users.totpPendingSealed }).from(users);
    for (const row of totpRows) {
      if (!row.secret && !row.pending) continue;
      const aad = totpAad(row.id);
      await tx
        .update(users)
        .set({ totpSecretSealed: reseal(row.secret, aad), totpPendingSealed: reseal(row.pending, aad) })
        .where(eq(users.id, row.id));
    }
    const sinkRows = await tx
      .select({ id: auditSinks.id, sealed: auditSinks.secretSealed })
      .from(auditSinks)
      .where(isNotNull(auditSinks.secretSealed));
    for (const row of sinkRows) {
      await tx
        .update(auditSinks)
        .set({ secretSealed: reseal(row.sealed, sinkSecretAad(row.id)) })
        .where(eq(auditSinks.id, row.id));
    }
    await tx.update(orgSettings).set({ keyCheck: next.makeKeyCheck(), caKeySealed, oidcClientSecretSealed }).where(eq(orgSettings.id, 1));
    await appendAuditEvents(
      tx,
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
    await bumpPolicyRevision(tx);
    return { credentials: rows.length };
  });
}
