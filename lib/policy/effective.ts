// A channel's effective policy: organization bundles, then its workspace's, then bundles naming
// the channel. A connection in a narrower scope replaces the same name from a wider one;
// domains add up.
import { domainExpiresAt, domainPattern, type BundleDoc, type ConnectionDoc, type PolicyDocument, type ScopeDoc } from "./document";

export type ScopeRank = 1 | 2 | 3;
export const scopeLabel: Record<ScopeRank, "organization" | "workspace" | "channel"> = {
  1: "organization",
  2: "workspace",
  3: "channel",
};

export type EffectiveConnection = {
  bundle: string;
  rank: ScopeRank;
  connection: ConnectionDoc;
  /** The wider-scope connections of the same name this one replaces. */
  overrides: { bundle: string; rank: ScopeRank }[];
};

export type EffectiveDomain = { bundle: string; rank: ScopeRank; pattern: string; expiresAt?: string };

export type EffectivePolicy = {
  workspace: string;
  channel: string;
  connections: EffectiveConnection[];
  domains: EffectiveDomain[];
};

export function scopeRank(scope: ScopeDoc, workspace: string, channel: string): ScopeRank | null {
  switch (scope.type) {
    case "organization":
      return 1;
    case "workspace":
      return scope.workspace === workspace ? 2 : null;
    case "channels":
      return scope.workspace === workspace && scope.channels.includes(channel) ? 3 : null;
  }
}

export function applicableBundles(doc: PolicyDocument, workspace: string, channel: string): { bundle: BundleDoc; rank: ScopeRank }[] {
  const out: { bundle: BundleDoc; rank: ScopeRank }[] = [];
  for (const bundle of doc.bundles) {
    const rank = scopeRank(bundle.scope, workspace, channel);
    if (rank !== null) out.push({ bundle, rank });
  }
  return out.sort((a, b) => a.rank - b.rank);
}

export function effectivePolicy(doc: PolicyDocument, workspace: string, channel: string): EffectivePolicy {
  const byName = new Map<string, EffectiveConnection>();
  const domains: EffectiveDomain[] = [];
  for (const { bundle, rank } of applicableBundles(doc, workspace, channel)) {
    for (const connection of bundle.connections) {
      const previous = byName.get(connection.name);
      const overrides = previous ? [...previous.overrides, { bundle: previous.bundle, rank: previous.rank }] : [];
      byName.set(connection.name, { bundle: bundle.name, rank, connection, overrides });
    }
    for (const entry of bundle.domains) {
      const expiresAt = domainExpiresAt(entry);
      domains.push({ bundle: bundle.name, rank, pattern: domainPattern(entry), ...(expiresAt ? { expiresAt } : {}) });
    }
  }
  return { workspace, channel, connections: [...byName.values()], domains };
}

/** Whether the agent may work in this channel at all (spec §6 `channels`; omitted = all). */
export function channelEnabled(doc: PolicyDocument, workspace: string, channel: string): boolean {
  if (!doc.channels) return true;
  return doc.channels.some((c) => c.workspace === workspace && c.channel === channel);
}
