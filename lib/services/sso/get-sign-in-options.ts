import { readPasswordSignIn } from "../../../db/queries/sso";
import type { ServiceContext } from "../context";
import { getOidcConfig } from "./oidc-config";

/** Public: what the sign-in page offers. Names only, nothing secret. */
export function getSignInOptions({ ctx }: { ctx: ServiceContext }): { sso: { name: string } | null; password: boolean } {
  const oidc = getOidcConfig(ctx);
  // Passwords stay on whatever the setting says when no IdP is configured: nobody is locked out.
  return { sso: oidc ? { name: oidc.name } : null, password: !oidc || readPasswordSignIn(ctx.db) };
}
