import { readPolicyDocument } from "../../../db/queries/policy";
import { listSessionChannels } from "../../../db/queries/sessions";
import type { Actor } from "../../auth/permissions";
import { channelEnabled, effectivePolicy, reportOnlyUntil, scopeLabel, type EffectivePolicy } from "../../policy";
import { authorize } from "../authorize";
import type { ServiceContext } from "../context";

export type ChannelView = {
  workspace: string;
  channel: string;
  enabled: boolean;
  effective: EffectivePolicy;
  /** Until when the channel is in report-only mode (ms), or null. */
  reportOnlyUntil: number | null;
  connections: {
    expiresAt?: string;
    name: string;
    bundle: string;
    scope: string;
    serviceAccount: string;
    allowedWebsites: string[];
    narrow?: { host?: string; pathPrefix?: string; methods?: "read_only" };
    overrides: { bundle: string; scope: string }[];
  }[];
};

/**
 * Every channel Gatehouse knows of (listed as enabled, named by a bundle, or seen in a session)
 * with its effective policy: each rule labelled with its bundle and whether it overrides a wider one.
 */
export async function listChannels({
  ctx,
  actor,
}: {
  ctx: ServiceContext;
  actor: Actor | null;
}): Promise<{ restricted: boolean; channels: ChannelView[] }> {
  authorize(actor, "policy.read");
  const doc = await readPolicyDocument(ctx.db);
  const keys = new Map<string, { workspace: string; channel: string }>();
  const add = (workspace: string, channel: string) => keys.set(`${workspace}/${channel}`, { workspace, channel });
  for (const c of doc.channels ?? []) add(c.workspace, c.channel);
  for (const b of doc.bundles) if (b.scope.type === "channels") for (const ch of b.scope.channels) add(b.scope.workspace, ch);
  for (const s of await listSessionChannels(ctx.db)) add(s.workspace, s.channel);
  const channels = [...keys.values()]
    .sort((a, b) => `${a.workspace}/${a.channel}`.localeCompare(`${b.workspace}/${b.channel}`))
    .map(({ workspace, channel }) => {
      const effective = effectivePolicy(doc, workspace, channel);
      return {
        workspace,
        channel,
        enabled: channelEnabled(doc, workspace, channel),
        effective,
        reportOnlyUntil: reportOnlyUntil(doc, workspace, channel, ctx.now()),
        connections: effective.connections.map((c) => ({
          ...(c.connection.expiresAt ? { expiresAt: c.connection.expiresAt } : {}),
          name: c.connection.name,
          bundle: c.bundle,
          scope: scopeLabel[c.rank],
          serviceAccount: c.connection.serviceAccount,
          allowedWebsites: c.connection.allowedWebsites,
          narrow: c.connection.narrow,
          overrides: c.overrides.map((o) => ({ bundle: o.bundle, scope: scopeLabel[o.rank] })),
        })),
      };
    });
  return { restricted: doc.channels !== undefined, channels };
}
