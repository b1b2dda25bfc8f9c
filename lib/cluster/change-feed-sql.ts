// The PostgreSQL side of the change feed (change-feed.ts). The revisions in org_settings are
// the truth, bumped in the same transaction as every change they announce; a trigger turns each
// bump into a NOTIFY, which PostgreSQL delivers only at commit, so no writer has to remember it.
// NOTIFY is a latency hint: a listener that missed one still finds the revision on its next read.

export const CHANGE_CHANNEL = "gatehouse_change";

/** Idempotent; shipped as a custom PostgreSQL migration (db/migrations-pg). */
export const CHANGE_NOTIFY_SQL = `
CREATE OR REPLACE FUNCTION gatehouse_notify_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('${CHANGE_CHANNEL}', json_build_object('policy', NEW.policy_revision, 'sessions', NEW.sessions_revision)::text);
  RETURN NULL;
END
$$;
CREATE OR REPLACE TRIGGER org_settings_change_notify
  AFTER UPDATE OF policy_revision, sessions_revision ON org_settings
  FOR EACH ROW
  WHEN (OLD.policy_revision IS DISTINCT FROM NEW.policy_revision OR OLD.sessions_revision IS DISTINCT FROM NEW.sessions_revision)
  EXECUTE FUNCTION gatehouse_notify_change();
`;

/**
 * The heartbeat: both revisions, and whether this connection still LISTENs (a pooler in
 * transaction mode, or a server restart behind a proxy, can silently drop it).
 */
export const HEARTBEAT_SQL = `SELECT policy_revision, sessions_revision, '${CHANGE_CHANNEL}' = ANY (ARRAY(SELECT pg_listening_channels())) AS listening FROM org_settings WHERE id = 1`;
