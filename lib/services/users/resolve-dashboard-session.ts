import { findUserById } from "../../../db/queries/users";
import type { Actor } from "../../auth/permissions";
import type { ServiceContext } from "../context";

/** A dashboard sign-in lasts at most this long from the password check, however often it is renewed. */
export const DASHBOARD_SESSION_MAX_MS = 12 * 60 * 60 * 1000;

/** What the signed session cookie carries: the user, the session version, when the password was checked. */
export type DashboardSessionClaims = { sub?: unknown; sv?: unknown; authTime?: unknown };

/**
 * The person a session cookie stands for, or null when it no longer counts: the user is gone,
 * their session version moved on (sign-out, password or role change, lock), or the absolute
 * lifetime since sign-in is over. Checked on every request that rides on the cookie.
 */
export function resolveDashboardSession({
  ctx,
  claims,
}: {
  ctx: ServiceContext;
  claims: DashboardSessionClaims;
}): Extract<Actor, { type: "user" }> | null {
  if (typeof claims.sub !== "string" || typeof claims.sv !== "number" || typeof claims.authTime !== "number") return null;
  const now = ctx.now();
  if (claims.authTime > now || now - claims.authTime >= DASHBOARD_SESSION_MAX_MS) return null;
  const user = findUserById(ctx.db, claims.sub);
  if (!user || user.sessionVersion !== claims.sv) return null;
  return { type: "user", id: user.id, email: user.email, role: user.role };
}
