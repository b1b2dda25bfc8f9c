// The policy document ↔ its tables. The document is the unit of reading and of replacing.
import { asc, eq, sql } from "drizzle-orm";
import type { Db } from "../client";
import {
  bundleChannels,
  bundleDomains,
  bundles,
  channels,
  connections,
  connectionWebsites,
  credentials,
  orgDeny,
  orgSettings,
  reportOnly,
} from "../schema";
import type { BundleDoc, ConnectionDoc, PolicyDocument } from "../../lib/policy/document";

export function readPolicyRevision(db: Db): number {
  return db.select({ r: orgSettings.policyRevision }).from(orgSettings).where(eq(orgSettings.id, 1)).get()?.r ?? 0;
}

/** Bumped in the same transaction as every write that can change a decision. */
export function bumpPolicyRevision(db: Db): void {
  db.update(orgSettings)
    .set({ policyRevision: sql`${orgSettings.policyRevision} + 1` })
    .where(eq(orgSettings.id, 1))
    .run();
}

export function readPolicyDocument(db: Db): PolicyDocument {
  const settings = db.select().from(orgSettings).where(eq(orgSettings.id, 1)).get();
  const bundleRows = db.select().from(bundles).orderBy(asc(bundles.position), asc(bundles.id)).all();
  const channelRows = db.select().from(bundleChannels).all();
  const domainRows = db.select().from(bundleDomains).orderBy(asc(bundleDomains.position)).all();
  const connectionRows = db.select().from(connections).orderBy(asc(connections.position), asc(connections.id)).all();
  const websiteRows = db.select().from(connectionWebsites).orderBy(asc(connectionWebsites.position)).all();
  const denyRows = db.select().from(orgDeny).orderBy(asc(orgDeny.position)).all();

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
  const reportOnlyRows = db.select().from(reportOnly).orderBy(asc(reportOnly.workspace), asc(reportOnly.channel)).all();
  if (reportOnlyRows.length > 0)
    doc.reportOnly = reportOnlyRows.map((r) => ({ workspace: r.workspace, ...(r.channel ? { channel: r.channel } : {}), until: r.until }));
  if (settings?.channelsRestricted) {
    doc.channels = db
      .select({ workspace: channels.workspace, channel: channels.channel })
      .from(channels)
      .orderBy(asc(channels.workspace), asc(channels.channel))
      .all();
  }
  return doc;
}

function stripUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

/** Replaces every policy table with the document's content. Call inside a write transaction. */
export function writePolicyDocument(db: Db, doc: PolicyDocument): void {
  db.delete(bundles).run(); // cascades to channels, domains, connections, websites
  db.delete(orgDeny).run();
  db.delete(channels).run();
  db.delete(reportOnly).run();
  for (const r of doc.reportOnly ?? [])
    db.insert(reportOnly)
      .values({ workspace: r.workspace, channel: r.channel ?? "", until: r.until })
      .run();
  doc.orgDeny.forEach((pattern, position) => db.insert(orgDeny).values({ pattern, position }).run());
  doc.bundles.forEach((b, position) => {
    const inserted = db
      .insert(bundles)
      .values({
        name: b.name,
        position,
        scopeType: b.scope.type,
        scopeWorkspace: b.scope.type === "organization" ? null : b.scope.workspace,
      })
      .returning({ id: bundles.id })
      .get();
    if (b.scope.type === "channels")
      for (const channel of new Set(b.scope.channels)) db.insert(bundleChannels).values({ bundleId: inserted.id, channel }).run();
    b.domains.forEach((entry, i) =>
      db
        .insert(bundleDomains)
        .values({
          bundleId: inserted.id,
          pattern: typeof entry === "string" ? entry : entry.pattern,
          expiresAt: typeof entry === "string" ? null : entry.expiresAt,
          position: i,
        })
        .run(),
    );
    b.connections.forEach((c, i) => {
      const conn = db
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
        .get();
      c.allowedWebsites.forEach((pattern, j) =>
        db.insert(connectionWebsites).values({ connectionId: conn.id, pattern, position: j }).run(),
      );
    });
  });
  db.update(orgSettings)
    .set({
      memberAccessMode: doc.memberAccess.mode,
      memberRoles: doc.memberAccess.roles,
      directMessages: doc.memberAccess.directMessages,
      channelsRestricted: doc.channels !== undefined,
    })
    .where(eq(orgSettings.id, 1))
    .run();
  for (const c of doc.channels ?? []) db.insert(channels).values(c).onConflictDoNothing().run();
}

export type CredentialMeta = { identity: string; fingerprint: string; setBy: string; setAt: number; lastUsedAt: number | null };

/** Never the sealed value: what an Owner may see about a credential. */
export function listCredentialMeta(db: Db): CredentialMeta[] {
  return db
    .select({
      identity: credentials.identity,
      fingerprint: credentials.fingerprint,
      setBy: credentials.setBy,
      setAt: credentials.setAt,
      lastUsedAt: credentials.lastUsedAt,
    })
    .from(credentials)
    .all();
}

export function credentialIdentities(db: Db): Set<string> {
  return new Set(
    db
      .select({ identity: credentials.identity })
      .from(credentials)
      .all()
      .map((r) => r.identity),
  );
}

export function findSealedCredential(db: Db, identity: string): string | undefined {
  return db.select({ sealed: credentials.sealed }).from(credentials).where(eq(credentials.identity, identity)).get()?.sealed;
}

export function upsertCredential(
  db: Db,
  row: { identity: string; sealed: string; fingerprint: string; setBy: string; setAt: number },
): void {
  db.insert(credentials)
    .values(row)
    .onConflictDoUpdate({
      target: credentials.identity,
      set: { sealed: row.sealed, fingerprint: row.fingerprint, setBy: row.setBy, setAt: row.setAt, lastUsedAt: null },
    })
    .run();
}

export function deleteCredential(db: Db, identity: string): boolean {
  return db.delete(credentials).where(eq(credentials.identity, identity)).run().changes > 0;
}

export function touchCredential(db: Db, identity: string, at: number): void {
  db.update(credentials).set({ lastUsedAt: at }).where(eq(credentials.identity, identity)).run();
}

/** The proxy's per-request policy and credential statements, prepared once. */
export function preparePolicyLookups(db: Db) {
  return {
    revision: db.$client.prepare("SELECT policy_revision FROM org_settings WHERE id = 1").pluck(),
    sealedCredential: db.$client.prepare("SELECT sealed FROM credentials WHERE identity = ?").pluck(),
  };
}
