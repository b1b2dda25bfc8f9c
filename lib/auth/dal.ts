// The data-access layer's view of who is calling, for pages, server actions and route handlers.
import "server-only";
import { getServerSession } from "next-auth";
import { redirect } from "next/navigation";
import { headers } from "next/headers";
import { cache } from "react";
import { findUserById } from "../../db/queries/users";
import { serviceContext } from "../services/context";
import { authenticateApiKey } from "../services/api-keys/authenticate-api-key";
import { authOptions } from "./next-auth";
import type { Actor } from "./permissions";

/** The signed-in person, re-read from the database so a removed user or a changed role applies at once. */
export const currentUser = cache(async (): Promise<Extract<Actor, { type: "user" }> | null> => {
  const session = (await getServerSession(authOptions)) as { userId?: string } | null;
  if (!session?.userId) return null;
  const user = findUserById(serviceContext().db, session.userId);
  if (!user) return null;
  return { type: "user", id: user.id, email: user.email, role: user.role };
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
  if (auth) return authenticateApiKey({ ctx: serviceContext(), header: auth });
  return method === "GET" || method === "HEAD" ? currentUser() : null;
}
