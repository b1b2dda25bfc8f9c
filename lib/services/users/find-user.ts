import { z } from "zod";
import type { Db } from "../../../db/client";
import { findUserByEmail, type UserRow } from "../../../db/queries/users";
import { AppError } from "../../errors";
import { MAX_EMAIL_LENGTH } from "./sign-in";

export const UserEmail = z
  .string()
  .trim()
  .toLowerCase()
  .min(1, "is required")
  .max(MAX_EMAIL_LENGTH, `must be at most ${MAX_EMAIL_LENGTH} characters`);

/** The user with this email, or 404. */
export function userByEmail(db: Db, email: string): UserRow {
  const user = findUserByEmail(db, email);
  if (!user) throw new AppError("not_found", `no user with email ${email}`, { field: "email" });
  return user;
}
