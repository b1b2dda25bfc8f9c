// The policy document ↔ its tables. The document is the unit of reading and of replacing.
import { asc, eq, sql } from "drizzle-orm";
import { sqliteOf, type Db } from "../client";
import { readSnapshot, writeTransaction } from "../tx";
import { changes, rawRun } from "../raw";
import type { bundleChannels, bundleDomains, bundles, connections, connectionWebsites, orgDeny, orgSettings, reportOnly } from "../schema";
import type { BundleDoc, ConnectionDoc, PolicyDocument } from "../../lib/policy/document";

export async function readPolicyRevision(db: Db): Promise<number> {
  const { orgSettings } = db.t;
  return (await db.select({ r: orgSettings.policyRevision }).from(orgSettings).where(eq(orgSettings.id, 1)))[0]?.r ?? 0;
}

/** Bumped in the same transaction as every write that can change a decision. */
export async function bumpPolicyRevision(db: Db): Promise<void> {
  const { orgSettings } = db.t;
  await db
    .update(orgSettings)
    .set({ policyRevision: sql`${orgSettings.policyRevision} + 1` })
    .where(eq(orgSettings.id, 1));
}

/** Every row the policy document is made of. */
export type PolicyRows = {
  settings: typeof orgSettings.$inferSelect | undefined;
  bundleRows: (typeof bundles.$inferSelect)[];
  channelRows: (typeof bundleChannels.$inferSelect)[];
  domainRows: (typeof bundleDomains.$inferSelect)[];
  connectionRows: (typeof connections.$inferSelect)[];
  websiteRows: (typeof connectionWebsites.$inferSelect)[];
  denyRows: (typeof orgDeny.$inferSelect)[];
  allowedChannels: { workspace: string; channel: string }[];
  reportOnlyRows: (typeof reportOnly.$inferSelect)[];
};

function policyQueries(db: Db) {
  const { orgSettings, bundles, bundleChannels, bundleDomains, connections, connectionWebsites, orgDeny, channels, reportOnly } = db.t;
  return {
    settings: db.select().from(orgSettings).where(eq(orgSettings.id, 1)),
    bundleRows: db.select().from(bundles).orderBy(asc(bundles.position), asc(bundles.id)),
    channelRows: db.select().from(bundleChannels),
    domainRows: db.select().from(bundleDomains).orderBy(asc(bundleDomains.position)),
    connectionRows: db.select().from(connections).orderBy(asc(connections.position), asc(connections.id)),
    websiteRows: db.select().from(connectionWebsites).orderBy(asc(connectionWebsites.position)),
    denyRows: db.select().from(orgDeny).orderBy(asc(orgDeny.position)),
    allowedChannels: db
      .select({ workspace: channels.workspace, channel: channels.channel })
      .from(channels)
      .orderBy(asc(channels.workspace), asc(channels.channel)),
    reportOnlyRows: db.select().from(reportOnly).orderBy(asc(reportOnly.workspace), asc(reportOnly.channel)),
  };
}

export async function readPolicyDocument(db: Db): Promise<PolicyDocument> {
  // Nine reads that must agree (a domain and its bundle): on PostgreSQL one REPEATABLE READ
  // snapshot (joining a transaction already open), or a policy committed between two of them
  // would give a document that does not hold together.
  return db.gh.dialect === "postgres" ? readSnapshot(db, readPolicyRows) : readPolicyRows(db);
}

/**
 * First thing in a write transaction that replaces the policy: PostgreSQL's row lock on
 * org_settings queues concurrent policy writers, so none derives its change from a document
 * another is replacing (a lost edit, or a duplicate bundle). SQLite's BEGIN IMMEDIATE already does.
 */
export async function lockPolicyForWrite(tx: Db): Promise<void> {
  if (tx.gh.dialect === "postgres") await rawRun(tx, sql`SELECT 1 FROM org_settings WHERE id = 1 FOR UPDATE`);
}

async function readPolicyRows(db: Db): Promise<PolicyDocument> {
  const q = policyQueries(db);
  return assemblePolicyDocument({
    settings: (await q.settings)[0],
    bundleRows: await q.bundleRows,
    channelRows: await q.channelRows,
    domainRows: await q.domainRows,
    connectionRows: await q.connectionRows,
    websiteRows: await q.websiteRows,
    denyRows: await q.denyRows,
    allowedChannels: await q.allowedChannels,
    reportOnlyRows: await q.reportOnlyRows,
  });
}

/**
 * The same read, synchronous, for the proxy on SQLite (its per-request path never awaits):
 * better-sqlite3 answers at once. Call inside a read transaction for one snapshot.
 */
export function readPolicyDocumentSync(db: Db): PolicyDocument {
  sqliteOf(db);
  const q = policyQueries(db) as unknown as { [K in keyof PolicyRows]: { all(): unknown[] } };
  return assemblePolicyDocument({
    settings: q.settings.all()[0],
    bundleRows: q.bundleRows.all(),
    channelRows: q.channelRows.all(),
    domainRows: q.domainRows.all(),
    connectionRows: q.connectionRows.all(),
    websiteRows: q.websiteRows.all(),
    denyRows: q.denyRows.all(),
    allowedChannels: q.allowedChannels.all(),
    reportOnlyRows: q.reportOnlyRows.all(),
  } as PolicyRows);
}

export function assemblePolicyDocument(rows: PolicyRows): PolicyDocument {
  const { settings, bundleRows, channelRows, domainRows, connectionRows, websiteRows, denyRows } = rows;

  const docBundles: BundleDoc[] = bundleRows.map((b) => {
    const scope: BundleDoc["scope"] =
      b.scopeType === "organization"
        ? { type: "organization" }
        : b.scopeType === "workspace"
          ? { type: "workspace", workspace: b.scopeWorkspace ?? "" }
          : {
              type: "channels",
              workspace: b.scopeWorkspace ?? "",
              channels: channelRows
                .filter((c) => c.bundleId === b.id)
                .map((c) => c.channel)
                .sort(),
            };
    const conns: ConnectionDoc[] = connectionRows
      .filter((c) => c.bundleId === b.id)
      .map((c) => {
        const inject: ConnectionDoc["inject"] =
          c.injectType === "basic"
            ? { type: "basic", username: c.injectName ?? "" }
            : c.injectType === "header"
              ? { type: "header", name: c.injectName ?? "" }
              : { type: "bearer" };
        const narrow =
          c.narrowHost || c.narrowPathPrefix || c.narrowMethods
            ? { host: c.narrowHost ?? undefined, pathPrefix: c.narrowPathPrefix ?? undefined, methods: c.narrowMethods ?? undefined }
            : undefined;
        return {
          name: c.name,
          serviceAccount: c.serviceAccount,
          inject,
          allowedWebsites: websiteRows.filter((w) => w.connectionId === c.id).map((w) => w.pattern),
          ...(narrow ? { narrow: stripUndefined(narrow) } : {}),
          ...(c.expiresAt ? { expiresAt: c.expiresAt } : {}),
        };
      });
    return {
      name: b.name,
      scope,
      domains: domainRows
        .filter((d) => d.bundleId === b.id)
        .map((d) => (d.expiresAt ? { pattern: d.pattern, expiresAt: d.expiresAt } : d.pattern)),
      connections: conns,
    };
  });

  const doc: PolicyDocument = {
    version: 1,
    memberAccess: {
      mode: settings?.memberAccessMode ?? "org_members",
      roles: settings?.memberRoles ?? [],
      directMessages: settings?.directMessages ?? "enabled",
    },
    orgDeny: denyRows.map((d) => d.pattern),
    bundles: docBundles,
  };
  if (rows.reportOnlyRows.length > 0)
    doc.reportOnly = rows.reportOnlyRows.map((r) => ({
      workspace: r.workspace,
      ...(r.channel ? { channel: r.channel } : {}),
      until: r.until,
    }));
  if (settings?.channelsRestricted) {
    doc.channels = rows.allowedChannels;
  }
  return doc;
}

function stripUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

/** Replaces every policy table with the document's content. Call inside a write transaction. */
export async function writePolicyDocument(db: Db, doc: PolicyDocument): Promise<void> {
  const { bundles, orgDeny, channels, bundleChannels, bundleDomains, connections, connectionWebsites, orgSettings, reportOnly } = db.t;
  await db.delete(bundles); // cascades to channels, domains, connections, websites
  await db.delete(orgDeny);
  await db.delete(channels);
  await db.delete(reportOnly);
  if (doc.reportOnly?.length)
    await db.insert(reportOnly).values(doc.reportOnly.map((r) => ({ workspace: r.workspace, channel: r.channel ?? "", until: r.until })));
  if (doc.orgDeny.length) await db.insert(orgDeny).values(doc.orgDeny.map((pattern, position) => ({ pattern, position })));
  for (const [position, b] of doc.bundles.entries()) {
    const inserted = (
      await db
        .insert(bundles)
        .values({
          name: b.name,
          position,
          scopeType: b.scope.type,
          scopeWorkspace: b.scope.type === "organization" ? null : b.scope.workspace,
        })
        .returning({ id: bundles.id })
    )[0]!;
    if (b.scope.type === "channels" && b.scope.channels.length)
      await db.insert(bundleChannels).values([...new Set(b.scope.channels)].map((channel) => ({ bundleId: inserted.id, channel })));
    if (b.domains.length)
      await db.insert(bundleDomains).values(
        b.domains.map((entry, i) => ({
          bundleId: inserted.id,
          pattern: typeof entry === "string" ? entry : entry.pattern,
          expiresAt: typeof entry === "string" ? null : entry.expiresAt,
          position: i,
        })),
      );
    for (const [i, c] of b.connections.entries()) {
      const conn = (
        await db
          .insert(connections)
          .values({
            bundleId: inserted.id,
            name: c.name,
            position: i,
            serviceAccount: c.serviceAccount,
            injectType: c.inject.type,
            injectName: c.inject.type === "basic" ? c.inject.username : c.inject.type === "header" ? c.inject.name : null,
            narrowHost: c.narrow?.host ?? null,
            narrowPathPrefix: c.narrow?.pathPrefix ?? null,
            narrowMethods: c.narrow?.methods ?? null,
            expiresAt: c.expiresAt ?? null,
          })
          .returning({ id: connections.id })
      )[0]!;
      if (c.allowedWebsites.length)
        await db
          .insert(connectionWebsites)
          .values(c.allowedWebsites.map((pattern, j) => ({ connectionId: conn.id, pattern, position: j })));
    }
  }
  await db
    .update(orgSettings)
    .set({
      memberAccessMode: doc.memberAccess.mode,
      memberRoles: doc.memberAccess.roles,
      directMessages: doc.memberAccess.directMessages,
      channelsRestricted: doc.channels !== undefined,
    })
    .where(eq(orgSettings.id, 1));
  if (doc.channels?.length) await db.insert(channels).values(doc.channels).onConflictDoNothing();
}

export type CredentialMeta = { identity: string; fingerprint: string; setBy: string; setAt: number; lastUsedAt: number | null };

/** Never the sealed value: what an Owner may see about a credential. */
export async function listCredentialMeta(db: Db): Promise<CredentialMeta[]> {
  const { credentials } = db.t;
  return db
    .select({
      identity: credentials.identity,
      fingerprint: credentials.fingerprint,
      setBy: credentials.setBy,
      setAt: credentials.setAt,
      lastUsedAt: credentials.lastUsedAt,
    })
    .from(credentials);
}

export async function credentialIdentities(db: Db): Promise<Set<string>> {
  const { credentials } = db.t;
  return new Set((await db.select({ identity: credentials.identity }).from(credentials)).map((r) => r.identity));
}

/** Synchronous twin of credentialIdentities, for the proxy on SQLite (see readPolicyDocumentSync). */
export function credentialIdentitiesSync(db: Db): Set<string> {
  const { credentials } = db.t;
  const q = db.select({ identity: credentials.identity }).from(credentials) as unknown as { all(): { identity: string }[] };
  return new Set(q.all().map((r) => r.identity));
}

/** Every sealed credential by identity (the proxy on PostgreSQL keeps them in memory). */
export async function sealedCredentials(db: Db): Promise<Map<string, string>> {
  const { credentials } = db.t;
  return new Map(
    (await db.select({ identity: credentials.identity, sealed: credentials.sealed }).from(credentials)).map((r) => [r.identity, r.sealed]),
  );
}

export async function findSealedCredential(db: Db, identity: string): Promise<string | undefined> {
  const { credentials } = db.t;
  return (await db.select({ sealed: credentials.sealed }).from(credentials).where(eq(credentials.identity, identity)))[0]?.sealed;
}

export async function upsertCredential(
  db: Db,
  row: { identity: string; sealed: string; fingerprint: string; setBy: string; setAt: number },
): Promise<void> {
  // A write: inside the caller's transaction, or one of its own (SQLite's reader is read-only).
  return writeTransaction(db, async (db) => {
    const { credentials } = db.t;
    await db
      .insert(credentials)
      .values(row)
      .onConflictDoUpdate({
        target: credentials.identity,
        set: { sealed: row.sealed, fingerprint: row.fingerprint, setBy: row.setBy, setAt: row.setAt, lastUsedAt: null },
      });
  });
}

export async function deleteCredential(db: Db, identity: string): Promise<boolean> {
  // A write: inside the caller's transaction, or one of its own (SQLite's reader is read-only).
  return writeTransaction(db, async (db) => {
    const { credentials } = db.t;
    return changes(await db.delete(credentials).where(eq(credentials.identity, identity))) > 0;
  });
}

export async function touchCredential(db: Db, identity: string, at: number): Promise<void> {
  // A write: inside the caller's transaction, or one of its own (SQLite's reader is read-only).
  return writeTransaction(db, async (db) => {
    const { credentials } = db.t;
    await db.update(credentials).set({ lastUsedAt: at }).where(eq(credentials.identity, identity));
  });
}

/** The proxy's per-request policy and credential statements on SQLite, prepared once (synchronous). */
export function preparePolicyLookups(db: Db) {
  const c = sqliteOf(db);
  return {
    revision: c.prepare("SELECT policy_revision FROM org_settings WHERE id = 1").pluck(),
    sealedCredential: c.prepare("SELECT sealed FROM credentials WHERE identity = ?").pluck(),
  };
}
