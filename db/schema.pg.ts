// The PostgreSQL twin of schema.ts (same tables, columns and indexes; schema-parity.test.ts
// checks): integer-millisecond times as bigint, booleans and JSON as their native types.
// drizzle-kit loads this file on its own: no path aliases here.
import { sql } from "drizzle-orm";
import { bigint, boolean, index, integer, jsonb, primaryKey, pgTable, text, uniqueIndex } from "drizzle-orm/pg-core";

const now = sql`((extract(epoch from clock_timestamp()) * 1000)::bigint)`;
/** Times are integer milliseconds on both backends, so audit hashes do not depend on the dialect. */
const ms = (name: string) => bigint(name, { mode: "number" });

/** Dashboard people. Roles: owner (everything), auditor (reads only). */
export const users = pgTable(
  "users",
  {
    id: text("id").primaryKey(),
    email: text("email").notNull().unique(),
    role: text("role", { enum: ["owner", "auditor"] }).notNull(),
    passwordHash: text("password_hash").notNull(),
    /**
     * Bumped by sign-out, a password or role change and a lock: a dashboard session cookie carries
     * the version it was issued under and is refused once they differ.
     */
    sessionVersion: integer("session_version").notNull().default(0),
    lastSignInAt: ms("last_sign_in_at"),
    createdAt: ms("created_at").notNull().default(now),
    /**
     * Set for a person who signs in through the company's IdP: one row per (issuer, subject). Such
     * a row's password hash is unusable, and its role is re-mapped from the IdP's groups at each sign-in.
     */
    oidcIssuer: text("oidc_issuer"),
    oidcSubject: text("oidc_subject"),
    /** TOTP (RFC 6238) for local accounts: the secret sealed with AAD `users.totp:<id>`; set once a code confirmed it. */
    totpSecretSealed: text("totp_secret_sealed"),
    /** An enrolment not yet confirmed with a code. */
    totpPendingSealed: text("totp_pending_sealed"),
    /** The last time step accepted: a code is good once. */
    totpLastStep: ms("totp_last_step"),
    /** SHA-256 of the unused recovery codes (each 80 random bits, shown once). */
    totpRecoveryHashes: jsonb("totp_recovery_hashes").$type<string[]>(),
  },
  (t) => [uniqueIndex("users_oidc_identity").on(t.oidcIssuer, t.oidcSubject)],
);

/**
 * Sign-in guesses, counted per account (`account`, the email as typed, known or not, so unknown
 * emails are counted like real ones) and per client address (`source`). A guess is reserved here
 * before its password is checked; `resetAt` ends the window or the lock. `refusals` counts, per
 * client address, the refused attempts that were written to the audit log.
 */
export const signInLimits = pgTable(
  "sign_in_limits",
  {
    scope: text("scope", { enum: ["account", "source", "refusals"] }).notNull(),
    subject: text("subject").notNull(),
    attempts: integer("attempts").notNull(),
    resetAt: ms("reset_at").notNull(),
    lockedAt: ms("locked_at"),
  },
  (t) => [primaryKey({ columns: [t.scope, t.subject] })],
);

/** One-time links that let the first Owner set a password when none was configured. */
export const setupTokens = pgTable("setup_tokens", {
  tokenHash: text("token_hash").primaryKey(),
  expiresAt: ms("expires_at").notNull(),
  usedAt: ms("used_at"),
  createdAt: ms("created_at").notNull().default(now),
});

/** API keys: shown once, stored as SHA-256 (they carry 256 random bits). */
export const apiKeys = pgTable("api_keys", {
  id: text("id").primaryKey(),
  name: text("name").notNull(),
  role: text("role", { enum: ["owner", "auditor", "orchestrator"] }).notNull(),
  keyHash: text("key_hash").notNull().unique(),
  prefix: text("prefix").notNull(),
  createdBy: text("created_by").notNull(),
  createdAt: ms("created_at").notNull().default(now),
  lastUsedAt: ms("last_used_at"),
  revokedAt: ms("revoked_at"),
});

/**
 * Singleton row (id = 1): organization-wide settings and the policy revision.
 * `policyRevision` is bumped in the same transaction as every policy write; the proxy
 * compares it to decide whether its compiled policy is stale.
 */
export const orgSettings = pgTable("org_settings", {
  id: integer("id").primaryKey(),
  memberAccessMode: text("member_access_mode", { enum: ["anyone", "org_members", "roles"] })
    .notNull()
    .default("org_members"),
  memberRoles: jsonb("member_roles")
    .$type<string[]>()
    .notNull()
    .default(sql`'[]'::jsonb`),
  directMessages: text("direct_messages", { enum: ["enabled", "disabled"] })
    .notNull()
    .default("enabled"),
  /** null: every channel may use the agent; otherwise only rows of `channels`. */
  channelsRestricted: boolean("channels_restricted").notNull().default(false),
  idleTimeoutSeconds: integer("idle_timeout_seconds").notNull().default(1800),
  maxLifetimeSeconds: integer("max_lifetime_seconds").notNull().default(86400),
  policyRevision: integer("policy_revision").notNull().default(0),
  /** Bumped whenever a session is revoked: the proxy's session cache checks it per request. */
  sessionsRevision: integer("sessions_revision").notNull().default(0),
  /** Sealed known value: proves the configured master key is the one that sealed the data. */
  keyCheck: text("key_check"),
  caCertPem: text("ca_cert_pem"),
  caKeySealed: text("ca_key_sealed"),
  /** Dashboard sign-in through the company's IdP, set in Settings (GATEHOUSE_OIDC_* env wins). */
  oidcName: text("oidc_name"),
  oidcIssuer: text("oidc_issuer"),
  oidcClientId: text("oidc_client_id"),
  /** Sealed with OIDC_SECRET_AAD: write-only, like a credential. */
  oidcClientSecretSealed: text("oidc_client_secret_sealed"),
  oidcRoleClaim: text("oidc_role_claim"),
  oidcOwnerGroups: jsonb("oidc_owner_groups").$type<string[]>(),
  oidcAuditorGroups: jsonb("oidc_auditor_groups").$type<string[]>(),
  /** Break-glass: an Owner may turn local passwords off once an SSO Owner exists; the CLI turns them back on. */
  passwordSignIn: boolean("password_sign_in").notNull().default(true),
  /** Owners with a local password must sign in with a TOTP code too. */
  totpRequiredForOwners: boolean("totp_required_for_owners").notNull().default(false),
  /** Audit events older than this many days move into archive segments; null keeps everything. */
  auditRetentionDays: integer("audit_retention_days"),
});

/** Workspaces the agent is connected to, and the channels it may work in. */
export const channels = pgTable(
  "channels",
  {
    workspace: text("workspace").notNull(),
    channel: text("channel").notNull(),
    createdAt: ms("created_at").notNull().default(now),
  },
  (t) => [primaryKey({ columns: [t.workspace, t.channel] })],
);

/** Access bundles: a scope plus connections and Domains entries. */
export const bundles = pgTable("bundles", {
  id: integer("id").primaryKey().generatedByDefaultAsIdentity(),
  name: text("name").notNull().unique(),
  position: integer("position").notNull().default(0),
  scopeType: text("scope_type", { enum: ["organization", "workspace", "channels"] }).notNull(),
  scopeWorkspace: text("scope_workspace"),
  createdAt: ms("created_at").notNull().default(now),
});

export const bundleChannels = pgTable(
  "bundle_channels",
  {
    bundleId: integer("bundle_id")
      .notNull()
      .references(() => bundles.id, { onDelete: "cascade" }),
    channel: text("channel").notNull(),
  },
  (t) => [primaryKey({ columns: [t.bundleId, t.channel] })],
);

/** The Domains tab: allowlist-only host patterns. */
export const bundleDomains = pgTable(
  "bundle_domains",
  {
    bundleId: integer("bundle_id")
      .notNull()
      .references(() => bundles.id, { onDelete: "cascade" }),
    pattern: text("pattern").notNull(),
    position: integer("position").notNull().default(0),
    /** A time-bound grant's end (RFC 3339, UTC); null for a lasting entry. */
    expiresAt: text("expires_at"),
  },
  (t) => [primaryKey({ columns: [t.bundleId, t.pattern] })],
);

export const connections = pgTable(
  "connections",
  {
    id: integer("id").primaryKey().generatedByDefaultAsIdentity(),
    bundleId: integer("bundle_id")
      .notNull()
      .references(() => bundles.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    position: integer("position").notNull().default(0),
    serviceAccount: text("service_account").notNull(),
    injectType: text("inject_type", { enum: ["bearer", "basic", "header"] }).notNull(),
    /** basic: the username; header: the header name. */
    injectName: text("inject_name"),
    narrowHost: text("narrow_host"),
    narrowPathPrefix: text("narrow_path_prefix"),
    narrowMethods: text("narrow_methods", { enum: ["read_only"] }),
    /** A time-bound grant's end (RFC 3339, UTC); null for a lasting connection. */
    expiresAt: text("expires_at"),
  },
  (t) => [uniqueIndex("connections_bundle_name").on(t.bundleId, t.name)],
);

/** Allowed websites: where a connection's credential may travel. */
export const connectionWebsites = pgTable(
  "connection_websites",
  {
    connectionId: integer("connection_id")
      .notNull()
      .references(() => connections.id, { onDelete: "cascade" }),
    pattern: text("pattern").notNull(),
    position: integer("position").notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.connectionId, t.pattern] })],
);

/**
 * Sealed credentials, keyed by the connection's identity (bundle/connection name) so a policy
 * import that recreates connection rows keeps them. The identity is the AEAD's associated data.
 */
export const credentials = pgTable("credentials", {
  identity: text("identity").primaryKey(),
  sealed: text("sealed").notNull(),
  fingerprint: text("fingerprint").notNull(),
  setBy: text("set_by").notNull(),
  setAt: ms("set_at").notNull(),
  lastUsedAt: ms("last_used_at"),
});

export const orgDeny = pgTable("org_deny", {
  pattern: text("pattern").primaryKey(),
  position: integer("position").notNull().default(0),
});

/**
 * Report-only windows (policy document `reportOnly`): a workspace (channel '') or one channel
 * whose would-be-blocked requests go out uncredentialed and logged, until `until` (RFC 3339).
 */
export const reportOnly = pgTable(
  "report_only",
  {
    workspace: text("workspace").notNull(),
    channel: text("channel").notNull().default(""),
    until: text("until").notNull(),
  },
  (t) => [primaryKey({ columns: [t.workspace, t.channel] })],
);

export const sessions = pgTable(
  "sessions",
  {
    id: text("id").primaryKey(),
    tokenHash: text("token_hash").notNull().unique(),
    workspace: text("workspace").notNull(),
    channel: text("channel").notNull(),
    thread: text("thread").notNull(),
    kind: text("kind", { enum: ["channel", "dm"] }).notNull(),
    memberId: text("member_id").notNull(),
    memberOrg: boolean("member_org").notNull(),
    memberRoles: jsonb("member_roles").$type<string[]>().notNull(),
    createdBy: text("created_by").notNull(),
    createdAt: ms("created_at").notNull(),
    lastSeenAt: ms("last_seen_at").notNull(),
    expiresAt: ms("expires_at").notNull(),
    idleTimeoutSeconds: integer("idle_timeout_seconds").notNull(),
    revokedAt: ms("revoked_at"),
    revokedBy: text("revoked_by"),
  },
  (t) => [index("sessions_created").on(t.createdAt), index("sessions_revoked").on(t.revokedAt)],
);

/**
 * The audit log: one append-only, hash-chained stream. Triggers (see the custom migration)
 * refuse UPDATE and DELETE. `seq` orders the chain.
 */
export const auditEvents = pgTable(
  "audit_events",
  {
    // Assigned under the audit lock (lib/audit/append.ts), so seq order is commit order.
    seq: bigint("seq", { mode: "number" }).primaryKey().generatedByDefaultAsIdentity(),
    id: text("id").notNull().unique(),
    ts: ms("ts").notNull(),
    kind: text("kind", { enum: ["egress", "admin", "access"] }).notNull(),
    action: text("action").notNull(),
    actor: text("actor"),
    requestId: text("request_id"),
    sessionId: text("session_id"),
    workspace: text("workspace"),
    channel: text("channel"),
    thread: text("thread"),
    member: text("member"),
    bundle: text("bundle"),
    connection: text("connection"),
    serviceAccount: text("service_account"),
    method: text("method"),
    scheme: text("scheme"),
    host: text("host"),
    port: integer("port"),
    path: text("path"),
    outcome: text("outcome"),
    rule: text("rule"),
    reason: text("reason"),
    status: integer("status"),
    bytesIn: bigint("bytes_in", { mode: "number" }),
    bytesOut: bigint("bytes_out", { mode: "number" }),
    durationMs: integer("duration_ms"),
    detail: text("detail"),
    prevHash: text("prev_hash").notNull(),
    hash: text("hash").notNull(),
  },
  (t) => [
    index("audit_ts").on(t.ts),
    // Every index is paid on every proxied request, so only the ones searches need most:
    // (host, seq) lets a host search walk one index backwards in log order and stop at the page
    // size; other filters ride the primary key (newest first) or the time index. Request ids
    // are found by the free-text search (the trigram index audit_fts, migration 0006).
    index("audit_host_seq").on(t.host, t.seq),
    // The Audit page filters by channel most; without these a channel with few (or no)
    // matching events scans the whole log (~450 ms at 1,000,000 events). Channel alone needs
    // (channel, seq) to read in log order; channel + outcome with no match (nothing blocked
    // there) would still walk all of the channel's events (~90 ms) without the second.
    index("audit_channel_seq").on(t.channel, t.seq),
    index("audit_channel_outcome_seq").on(t.channel, t.outcome, t.seq),
    // Credential health (a connection's upstream answers): partial, so only credentialed
    // requests with an upstream status pay for it; covering, so a check reads no table rows.
    index("audit_credential_status")
      .on(t.bundle, t.connection, t.ts, t.status)
      .where(sql`outcome = 'credentialed' AND status IS NOT NULL`),
  ],
);

/**
 * How far each egress journal file (lib/audit/journal.ts) has been moved into the chain. The
 * offset advances in the same transaction as the events it covers: each line lands exactly once.
 */
export const auditJournal = pgTable("audit_journal", {
  file: text("file").primaryKey(),
  offset: bigint("offset", { mode: "number" }).notNull(),
});

/**
 * Where the audit log is streamed (syslog, webhook, OTLP). `cursorSeq` is the last chain position
 * delivered: it advances only after the sink acknowledged, so delivery is at least once.
 */
export const auditSinks = pgTable("audit_sinks", {
  id: text("id").primaryKey(),
  name: text("name").notNull().unique(),
  type: text("type", { enum: ["syslog", "webhook", "otlp"] }).notNull(),
  format: text("format", { enum: ["json", "ocsf"] }).notNull(),
  url: text("url").notNull(),
  /** Webhook signing secret, sealed with the sink's AAD: write-only, like a credential. */
  secretSealed: text("secret_sealed"),
  cursorSeq: bigint("cursor_seq", { mode: "number" }).notNull().default(0),
  lastDeliveryAt: ms("last_delivery_at"),
  lastError: text("last_error"),
  lastErrorAt: ms("last_error_at"),
  failures: integer("failures").notNull().default(0),
  createdBy: text("created_by").notNull(),
  createdAt: ms("created_at").notNull(),
});

/** Archive segments of the audit log (lib/audit/archive.ts); audit rows at or below the last one's lastSeq may be deleted, no others. */
export const auditArchiveSegments = pgTable("audit_archive_segments", {
  firstSeq: bigint("first_seq", { mode: "number" }).primaryKey(),
  lastSeq: bigint("last_seq", { mode: "number" }).notNull(),
  /** prev_hash of the first event: the chain position the segment continues. */
  firstPrevHash: text("first_prev_hash").notNull(),
  firstHash: text("first_hash").notNull(),
  lastHash: text("last_hash").notNull(),
  events: integer("events").notNull(),
  file: text("file").notNull(),
  /** SHA-256 of the gzip file as written. */
  sha256: text("sha256").notNull(),
  createdAt: ms("created_at").notNull(),
});

/** Work only one process may do at a time (the audit stream sender, a retention run), across replicas. */
export const leases = pgTable("leases", {
  name: text("name").primaryKey(),
  holder: text("holder").notNull(),
  expiresAt: ms("expires_at").notNull(),
});
