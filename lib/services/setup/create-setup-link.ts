import { eq, isNull } from "drizzle-orm";
import { countUsers } from "../../../db/queries/users";
import { writeTransaction } from "../../../db/tx";
import { newSecretToken, tokenHash } from "../../auth/tokens";
import type { ServiceContext } from "../context";

export const SETUP_LINK_TTL_MS = 60 * 60 * 1000;

/**
 * With no users yet, a single-use link (1 hour) for the first Owner. Earlier unused links are
 * voided, so only the one printed last works.
 */
export async function createSetupLink({ ctx }: { ctx: ServiceContext }): Promise<{ url: string; expiresAt: number } | null> {
  const now = ctx.now();
  const token = newSecretToken("gsetup");
  const created = await writeTransaction(ctx.db, async (tx) => {
    const { setupTokens } = tx.t;
    if ((await countUsers(tx)) > 0) return false;
    await tx.update(setupTokens).set({ usedAt: now }).where(isNull(setupTokens.usedAt));
    await tx.insert(setupTokens).values({ tokenHash: tokenHash(token), expiresAt: now + SETUP_LINK_TTL_MS, createdAt: now });
    return true;
  });
  if (!created) return null;
  return { url: `${ctx.env.publicUrl}/setup?token=${encodeURIComponent(token)}`, expiresAt: now + SETUP_LINK_TTL_MS };
}

export async function setupTokenValid(ctx: ServiceContext, token: string): Promise<boolean> {
  const { setupTokens } = ctx.db.t;
  const row = (
    await ctx.db
      .select()
      .from(setupTokens)
      .where(eq(setupTokens.tokenHash, tokenHash(token)))
  )[0];
  return !!row && !row.usedAt && row.expiresAt > ctx.now() && (await countUsers(ctx.db)) === 0;
}

/** Whether setup is over (someone can sign in): the setup page then points to sign-in, not a restart. */
export async function setupDone(ctx: ServiceContext): Promise<boolean> {
  return (await countUsers(ctx.db)) > 0;
}
