-- The change feed (lib/cluster/change-feed.ts listens): every bump of a revision
-- in org_settings becomes a NOTIFY on gatehouse_change, delivered at commit.
CREATE OR REPLACE FUNCTION gatehouse_notify_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('gatehouse_change', json_build_object('policy', NEW.policy_revision, 'sessions', NEW.sessions_revision)::text);
  RETURN NULL;
END
$$;
--> statement-breakpoint
CREATE OR REPLACE TRIGGER org_settings_change_notify
  AFTER UPDATE OF policy_revision, sessions_revision ON org_settings
  FOR EACH ROW
  WHEN (OLD.policy_revision IS DISTINCT FROM NEW.policy_revision OR OLD.sessions_revision IS DISTINCT FROM NEW.sessions_revision)
  EXECUTE FUNCTION gatehouse_notify_change();
