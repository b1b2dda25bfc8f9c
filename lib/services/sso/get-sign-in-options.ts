import { readPasswordSignIn } from "../../../db/queries/sso";
import type { ServiceContext } from "../context";
import { getOidcConfig } from "./oidc-config";

/** Public: what the sign-in page offers. Names only, nothing secret. */
export async function getSignInOptions({ ctx }: { ctx: ServiceContext }): Promise<{ sso: { name: string } | null; password: boolean }> {
  const oidc = await getOidcConfig(ctx);
  // Passwords stay on whatever the setting says when no IdP is configured: nobody is locked out.
  return { sso: oidc ? { name: oidc.name } : null, password: !oidc || (await readPasswordSignIn(ctx.db)) };
}
