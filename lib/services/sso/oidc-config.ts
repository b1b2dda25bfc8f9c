import { readOidcSettings } from "../../../db/queries/sso";
import { followKeyRotation } from "../../bootstrap";
import { AppError } from "../../errors";
import { OIDC_DEFAULT_ROLE_CLAIM, OIDC_DEFAULT_SCOPES } from "../../env";
import { Secret } from "../../vault";
import type { ServiceContext } from "../context";
import type { RoleMapping } from "./map-role";

/** The AEAD associated data of the sealed client secret: it opens only in this column. */
export const OIDC_SECRET_AAD = "org_settings.oidc_client_secret";

export type OidcConfig = RoleMapping & {
  /** Where it came from: GATEHOUSE_OIDC_* (wins when set) or Settings. */
  source: "env" | "settings";
  name: string;
  issuer: string;
  clientId: string;
  clientSecret: Secret;
  scopes: string;
};

/**
 * The IdP the dashboard signs in with, read afresh on each call so a change in Settings applies
 * to the next sign-in. Env wins over Settings; null when neither configures one.
 */
export function getOidcConfig(ctx: ServiceContext): OidcConfig | null {
  const e = ctx.env.oidc;
  if (e)
    return {
      source: "env",
      name: e.name,
      issuer: e.issuer,
      clientId: e.clientId,
      clientSecret: new Secret(e.clientSecret),
      roleClaim: e.roleClaim,
      ownerGroups: e.ownerGroups,
      auditorGroups: e.auditorGroups,
      scopes: e.scopes,
    };
  const s = readOidcSettings(ctx.db);
  if (!s?.issuer || !s.clientId || !s.clientSecretSealed) return null;
  if (!followKeyRotation(ctx.db, ctx.vault, ctx.env))
    throw new AppError("conflict", "the master key changed and this process cannot load the new one; restart Gatehouse");
  return {
    source: "settings",
    name: s.name || "SSO",
    issuer: s.issuer,
    clientId: s.clientId,
    clientSecret: ctx.vault.open(s.clientSecretSealed, OIDC_SECRET_AAD),
    roleClaim: s.roleClaim || OIDC_DEFAULT_ROLE_CLAIM,
    ownerGroups: s.ownerGroups ?? [],
    auditorGroups: s.auditorGroups ?? [],
    scopes: OIDC_DEFAULT_SCOPES,
  };
}
