export type ScopeValue = { type: "organization" | "workspace" | "channels"; workspace?: string; channels?: string[] };

export function scopeLabel(scope: ScopeValue): string {
  if (scope.type === "organization") return "Organization";
  if (scope.type === "workspace") return `Workspace ${scope.workspace}`;
  return `${scope.workspace}: ${scope.channels?.join(", ")}`;
}
