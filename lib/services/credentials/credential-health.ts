// Per connection: its credential's metadata (never the value) and health, from the audit log.
import { credentialAnswers } from "../../../db/queries/credential-health";
import { listCredentialMeta, readPolicyDocument } from "../../../db/queries/policy";
import { importJournals } from "../../audit/journal";
import type { Actor } from "../../auth/permissions";
import { credentialHealth, HEALTH_LIMITS, type CredentialHealth } from "../../credential-health";
import { credentialIdentity } from "../../policy";
import { authorize } from "../authorize";
import type { ServiceContext } from "../context";

export type ConnectionStatus = {
  bundle: string;
  connection: string;
  serviceAccount: string;
  /** null: no credential set; requests to its websites go out without one. */
  credential: { fingerprint: string; setBy: string; setAt: string; lastUsedAt: string | null } | null;
  health: (Omit<CredentialHealth, "lastSuccessAt"> & { lastSuccessAt: string | null }) | null;
};

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** Every connection of the policy (or the one named), with its credential's health. */
export async function listConnectionHealth({
  ctx,
  actor,
  only,
}: {
  ctx: ServiceContext;
  actor: Actor | null;
  only?: { bundle: string; connection: string };
}): Promise<ConnectionStatus[]> {
  authorize(actor, "policy.read");
  authorize(actor, "audit.read");
  await importJournals(ctx.db, ctx.env.dataDir);
  const now = ctx.now();
  const meta = new Map((await listCredentialMeta(ctx.db)).map((m) => [m.identity, m]));
  const out: ConnectionStatus[] = [];
  for (const b of (await readPolicyDocument(ctx.db)).bundles) {
    for (const c of b.connections) {
      if (only && (only.bundle !== b.name || only.connection !== c.name)) continue;
      const m = meta.get(credentialIdentity(b.name, c.name));
      let health: ConnectionStatus["health"] = null;
      if (m) {
        const answers = await credentialAnswers(ctx.db, {
          bundle: b.name,
          connection: c.name,
          since: m.setAt,
          limit: HEALTH_LIMITS.maxAnswers,
        });
        const h = credentialHealth({ setAt: m.setAt, lastUsedAt: m.lastUsedAt, now, ...answers });
        health = { ...h, lastSuccessAt: iso(h.lastSuccessAt) };
      }
      out.push({
        bundle: b.name,
        connection: c.name,
        serviceAccount: c.serviceAccount,
        credential: m ? { fingerprint: m.fingerprint, setBy: m.setBy, setAt: iso(m.setAt)!, lastUsedAt: iso(m.lastUsedAt) } : null,
        health,
      });
    }
  }
  return out;
}
