import { AppError } from "../../errors";
import { newlyDeniedEntries, type PolicyDocument } from "../../policy";

/** Refuses a save that adds entries the org-wide deny list overrides, unless the Owner confirmed. */
export function refuseDeniedEntries(current: PolicyDocument, next: PolicyDocument, field: string): void {
  const denied = newlyDeniedEntries(current, next)[0];
  if (!denied) return;
  throw new AppError(
    "conflict",
    `${field}: the org-wide deny list entry ${denied.deniedBy} blocks ${denied.pattern}, so adding it changes nothing; remove it there first, or confirm to add it anyway`,
    { field },
  );
}
