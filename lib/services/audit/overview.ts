import { hourlyOutcomes, latestAuditSeq, topBlockedHosts } from "../../../db/queries/audit";
import { readPolicyDocument, listCredentialMeta } from "../../../db/queries/policy";
import { countActiveSessions } from "../../../db/queries/sessions";
import { verifyAuditLog, type VerifiedPoint } from "../../audit";
import type { Actor } from "../../auth/permissions";
import { credentialIdentity } from "../../policy";
import { authorize } from "../authorize";
import type { ServiceContext } from "../context";
import { importJournals } from "../../audit/journal";

export type Overview = {
  hours: { start: number; credentialed: number; allowlisted: number; blocked: number }[];
  topBlocked: { host: string; count: number; channel: string | null; workspace: string | null }[];
  credentials: {
    identity: string;
    bundle: string;
    connection: string;
    serviceAccount: string;
    set: boolean;
    fingerprint: string | null;
    setAt: number | null;
    lastUsedAt: number | null;
  }[];
  activeSessions: number;
  chain: { ok: boolean; events: number; verifiedThrough: number; latest: number; firstBad?: { seq: number; id: string; problem: string } };
};

// The chain up to here verified fine in this process: later checks continue from it.
let verified: VerifiedPoint | null = null;
let verifiedCount = 0;

/** Activity at a glance: the last 24 hours by outcome, top blocked hosts, credential use, sessions, the chain. */
export async function getOverview({ ctx, actor }: { ctx: ServiceContext; actor: Actor | null }): Promise<Overview> {
  authorize(actor, "audit.read");
  await importJournals(ctx.db, ctx.env.dataDir);
  const now = ctx.now();
  const hour = 3_600_000;
  const start = Math.floor(now / hour) * hour - 23 * hour;
  const rows = await hourlyOutcomes(ctx.db, start, hour);
  const hours = Array.from({ length: 24 }, (_, i) => ({ start: start + i * hour, credentialed: 0, allowlisted: 0, blocked: 0 }));
  for (const r of rows) {
    const h = hours.find((x) => x.start === r.bucket);
    if (h && (r.outcome === "credentialed" || r.outcome === "allowlisted" || r.outcome === "blocked")) h[r.outcome] += r.n;
  }
  const topBlocked = await topBlockedHosts(ctx.db, now - 7 * 24 * hour, 10);
  const meta = new Map((await listCredentialMeta(ctx.db)).map((m) => [m.identity, m]));
  const credentials = (await readPolicyDocument(ctx.db)).bundles
    .flatMap((b) => b.connections.map((c) => ({ b, c })))
    .map(({ b, c }) => {
      const identity = credentialIdentity(b.name, c.name);
      const m = meta.get(identity);
      return {
        identity,
        bundle: b.name,
        connection: c.name,
        serviceAccount: c.serviceAccount,
        set: !!m,
        fingerprint: m?.fingerprint ?? null,
        setAt: m?.setAt ?? null,
        lastUsedAt: m?.lastUsedAt ?? null,
      };
    })
    // Never used first, then the longest unused.
    .sort((x, y) => (x.lastUsedAt ?? 0) - (y.lastUsedAt ?? 0));

  // At most this many events per page load: a large log is verified over a few visits, and the
  // page says how far it got. The Audit page's Verify walks everything.
  const state = await verifyAuditLog(ctx.db, verified ?? undefined, 200_000);
  const latest = await latestAuditSeq(ctx.db);
  let chain: Overview["chain"];
  if (state.ok) {
    verifiedCount += state.events;
    verified = { seq: state.lastSeq, hash: state.lastHash };
    chain = { ok: true, events: verifiedCount, verifiedThrough: state.lastSeq, latest };
  } else {
    chain = { ok: false, events: verifiedCount + state.events, verifiedThrough: verified?.seq ?? 0, latest, firstBad: state.firstBad };
  }
  return { hours, topBlocked, credentials, activeSessions: await countActiveSessions(ctx.db, now), chain };
}
