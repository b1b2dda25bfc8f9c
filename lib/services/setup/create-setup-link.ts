import { eq, isNull } from "drizzle-orm";
import { countUsers } from "../../../db/queries/users";
import { setupTokens } from "../../../db/schema";
import { writeTransaction } from "../../../db/tx";
import { newSecretToken, tokenHash } from "../../auth/tokens";
import type { ServiceContext } from "../context";

export const SETUP_LINK_TTL_MS = 60 * 60 * 1000;

/**
 * With no users yet, a single-use link (1 hour) for the first Owner. Earlier unused links are
 * voided, so only the one printed last works.
 */
export function createSetupLink({ ctx }: { ctx: ServiceContext }): { url: string; expiresAt: number } | null {
  const now = ctx.now();
  const token = newSecretToken("gsetup");
  const created = writeTransaction(ctx.db, () => {
    if (countUsers(ctx.db) > 0) return false;
    ctx.db.update(setupTokens).set({ usedAt: now }).where(isNull(setupTokens.usedAt)).run();
    ctx.db
      .insert(setupTokens)
      .values({ tokenHash: tokenHash(token), expiresAt: now + SETUP_LINK_TTL_MS, createdAt: now })
      .run();
    return true;
  });
  if (!created) return null;
  return { url: `${ctx.env.publicUrl}/setup?token=${encodeURIComponent(token)}`, expiresAt: now + SETUP_LINK_TTL_MS };
}

export function setupTokenValid(ctx: ServiceContext, token: string): boolean {
  const row = ctx.db
    .select()
    .from(setupTokens)
    .where(eq(setupTokens.tokenHash, tokenHash(token)))
    .get();
  return !!row && !row.usedAt && row.expiresAt > ctx.now() && countUsers(ctx.db) === 0;
}

/** Whether setup is over (someone can sign in): the setup page then points to sign-in, not a restart. */
export function setupDone(ctx: ServiceContext): boolean {
  return countUsers(ctx.db) > 0;
}
