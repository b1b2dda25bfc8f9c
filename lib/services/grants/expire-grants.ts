// Records expiries: the first process whose sweep finds an entry past its instant removes it
// from the stored document and appends one `grant.expired` (or `report_only.expired`) event,
// in one write transaction. Any number of processes may sweep: a second finds nothing left, so
// each expiry is recorded once. Decisions never wait for this: the engine leaves an expired
// entry out by itself (lib/policy/time-bound.ts).
import {
  bumpPolicyRevision,
  deleteCredential,
  listCredentialMeta,
  lockPolicyForWrite,
  readPolicyDocument,
  writePolicyDocument,
} from "../../../db/queries/policy";
import { writeTransaction } from "../../../db/tx";
import { appendAuditEvents, type AuditEventInput } from "../../audit";
import { credentialIdentity, expiredEntries } from "../../policy";
import type { ServiceContext } from "../context";

export type ExpirySweep = { expired: number };

/** System work, not a caller's: no actor. `now` is the policy clock's. */
export async function expireGrants({ ctx, now }: { ctx: ServiceContext; now: number }): Promise<ExpirySweep> {
  return writeTransaction(ctx.db, async (tx) => {
    await lockPolicyForWrite(tx);
    const current = await readPolicyDocument(tx);
    const { expired, remaining } = expiredEntries(current, now);
    if (expired.length === 0) return { expired: 0 };
    await writePolicyDocument(tx, remaining);
    const events: AuditEventInput[] = [];
    const gone = new Set<string>();
    for (const e of expired) {
      if (e.kind === "reportOnly") {
        events.push({
          kind: "admin",
          action: "report_only.expired",
          actor: "system",
          workspace: e.workspace,
          channel: e.channel ?? null,
          detail: { before: { until: e.until } },
        });
      } else if (e.kind === "domain") {
        events.push({
          kind: "admin",
          action: "grant.expired",
          actor: "system",
          bundle: e.bundle,
          detail: { grant: "domain", pattern: e.pattern, before: { expiresAt: e.expiresAt } },
        });
      } else {
        events.push({
          kind: "admin",
          action: "grant.expired",
          actor: "system",
          bundle: e.bundle,
          connection: e.connection,
          detail: { grant: "connection", before: { expiresAt: e.expiresAt } },
        });
        gone.add(credentialIdentity(e.bundle, e.connection));
      }
    }
    // A time-bound connection's credential goes with it, as when any connection is removed.
    for (const cred of await listCredentialMeta(tx)) {
      if (!gone.has(cred.identity)) continue;
      await deleteCredential(tx, cred.identity);
      const [bundle, connection] = cred.identity.split("/");
      events.push({
        kind: "admin",
        action: "credential.revoked",
        actor: "system",
        bundle,
        connection,
        reason: "its time-bound grant expired",
        detail: { before: { fingerprint: cred.fingerprint, secret: "[write-only]" } },
      });
    }
    await appendAuditEvents(tx, events, ctx.now());
    await bumpPolicyRevision(tx);
    return { expired: expired.length };
  });
}
