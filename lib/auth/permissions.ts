// Permissions as a table, checked for every kind of caller.
export type Role = "owner" | "auditor" | "orchestrator";

export const PERMISSIONS = [
  "policy.read",
  "policy.write",
  "credential.write",
  "audit.read",
  "session.create",
  "session.revoke",
  "session.read",
  "user.read",
  "user.write",
  "apikey.read",
  "apikey.write",
  "settings.write",
] as const;
export type Permission = (typeof PERMISSIONS)[number];

export const ROLE_PERMISSIONS: Record<Role, ReadonlySet<Permission>> = {
  owner: new Set(PERMISSIONS),
  auditor: new Set<Permission>(["policy.read", "audit.read", "session.read", "user.read", "apikey.read"]),
  orchestrator: new Set<Permission>(["session.create", "session.revoke"]),
};

export type Actor =
  | { type: "user"; id: string; email: string; role: "owner" | "auditor" }
  | { type: "apikey"; id: string; name: string; role: Role }
  /** The local CLI: whoever can read the data directory and master key is an Owner already. */
  | { type: "cli"; role: "owner" }
  | { type: "system"; role: "owner" };

export function actorLabel(actor: Actor): string {
  switch (actor.type) {
    case "user":
      return actor.email;
    case "apikey":
      return `apikey:${actor.name}`;
    case "cli":
      return "cli";
    case "system":
      return "system";
  }
}

export function can(actor: Actor | null, permission: Permission): boolean {
  return !!actor && ROLE_PERMISSIONS[actor.role].has(permission);
}
