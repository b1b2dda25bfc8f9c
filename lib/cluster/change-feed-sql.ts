// The PostgreSQL side of the change feed (change-feed.ts). The revisions in org_settings are
// the truth, bumped in the same transaction as every change they announce; a trigger turns each
// bump into a NOTIFY, which PostgreSQL delivers only at commit, so no writer has to remember it.
// NOTIFY is a latency hint: a listener that missed one still finds the revision on its next read.
// The trigger itself is the PostgreSQL migration db/migrations-pg/0004_change_feed.sql.

export const CHANGE_CHANNEL = "gatehouse_change";

/**
 * The heartbeat: both revisions, and whether this connection still LISTENs (a pooler in
 * transaction mode, or a server restart behind a proxy, can silently drop it).
 */
export const HEARTBEAT_SQL = `SELECT policy_revision, sessions_revision, '${CHANGE_CHANNEL}' = ANY (ARRAY(SELECT pg_listening_channels())) AS listening FROM org_settings WHERE id = 1`;
