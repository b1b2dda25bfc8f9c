import { can, type Actor, type Permission } from "../auth/permissions";
import { AppError } from "../errors";

/** First line of every verb. */
export function authorize(actor: Actor | null, permission: Permission): asserts actor is Actor {
  if (!actor) throw new AppError("unauthenticated", "sign in or send an API key");
  if (!can(actor, permission)) throw new AppError("forbidden", `the ${actor.role} role may not do this (${permission})`);
}
