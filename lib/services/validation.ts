import type { z } from "zod";
import { AppError } from "../errors";

/** A zod error as one AppError naming the field at fault (and all fields for forms). */
export function firstIssue(error: z.ZodError): AppError {
  const fields = error.issues.map((i) => ({ field: i.path.map(String).join(".") || "(input)", message: i.message }));
  const first = fields[0]!;
  return new AppError("invalid_field", `${first.field}: ${first.message}`, { fields });
}
