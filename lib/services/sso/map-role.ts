// PURE: which dashboard role a person's IdP groups give them.

/** Bounds on what is read from a claim: an IdP can list many groups, but not unboundedly. */
export const MAX_GROUPS = 1000;
export const MAX_GROUP_LENGTH = 256;

export type RoleMapping = { roleClaim: string; ownerGroups: readonly string[]; auditorGroups: readonly string[] };

/** The claim's groups: an array of strings, or one string; anything else reads as none. */
export function groupsOf(claims: Record<string, unknown>, roleClaim: string): string[] {
  const raw = Object.prototype.hasOwnProperty.call(claims, roleClaim) ? claims[roleClaim] : undefined;
  const list = Array.isArray(raw) ? raw.slice(0, MAX_GROUPS) : typeof raw === "string" ? [raw] : [];
  return list.filter((g): g is string => typeof g === "string" && g.length > 0 && g.length <= MAX_GROUP_LENGTH);
}

/** Owner wins over auditor; no matching group is no role (the sign-in is refused). Exact, case-sensitive match. */
export function mapRole(claims: Record<string, unknown>, mapping: RoleMapping): "owner" | "auditor" | null {
  const groups = new Set(groupsOf(claims, mapping.roleClaim));
  if (mapping.ownerGroups.some((g) => groups.has(g))) return "owner";
  if (mapping.auditorGroups.some((g) => groups.has(g))) return "auditor";
  return null;
}
