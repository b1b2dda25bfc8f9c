// The data-access layer's view of who is calling, for pages, server actions and route handlers.
// A Next.js adapter: it lives beside app/ and reads the session through next-auth.
import "server-only";
import { getServerSession } from "next-auth";
import { redirect } from "next/navigation";
import { headers } from "next/headers";
import { cache } from "react";
import type { Actor } from "@/lib/auth/permissions";
import { authenticateApiKey } from "@/lib/services/api-keys/authenticate-api-key";
import { serviceContext } from "@/lib/services/context";
import { resolveDashboardSession } from "@/lib/services/users/resolve-dashboard-session";
import { authOptions } from "./next-auth";

/**
 * The signed-in person, re-read from the database on every request: a removed user, a changed
 * role, a password change, a lock or a sign-out elsewhere applies at once. (next-auth's jwt
 * callback already refused a revoked session; this checks the same claims again.)
 */
export const currentUser = cache(async (): Promise<Extract<Actor, { type: "user" }> | null> => {
  const session = (await getServerSession(authOptions)) as { claims?: { sub?: unknown; sv?: unknown; authTime?: unknown } } | null;
  if (!session?.claims) return null;
  return await resolveDashboardSession({ ctx: serviceContext(), claims: session.claims });
});

/** For pages: the user, or a redirect to sign-in. */
export async function requireUser(): Promise<Extract<Actor, { type: "user" }>> {
  const user = await currentUser();
  if (!user) redirect("/signin");
  return user;
}

/**
 * For API routes: an API key; or, for reads only (the dashboard's export download), the
 * signed-in user. Writes never ride on a cookie, so they cannot be forged cross-site.
 */
export async function apiActor(method: string): Promise<Actor | null> {
  const h = await headers();
  const auth = h.get("authorization");
  if (auth) return await authenticateApiKey({ ctx: serviceContext(), header: auth });
  return method === "GET" || method === "HEAD" ? currentUser() : null;
}
