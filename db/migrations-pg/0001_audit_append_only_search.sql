-- The audit log is append-only: the database itself refuses edits and deletions (as the
-- SQLite triggers of migration 0001 do). TRUNCATE too, which skips row triggers.
CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_events is append-only';
END;
$$;
--> statement-breakpoint
CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events FOR EACH ROW EXECUTE FUNCTION audit_events_append_only();
--> statement-breakpoint
CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events FOR EACH ROW EXECUTE FUNCTION audit_events_append_only();
--> statement-breakpoint
CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only();
--> statement-breakpoint
-- Free-text search (`q=`): a trigram GIN index over the searched columns, the twin of SQLite's
-- FTS5 trigram table (migration 0006). The index narrows the rows; each column's ILIKE then
-- decides (db/queries/audit.ts), so a match never straddles two columns. chr(1) separates them.
-- pg_trgm is a trusted extension (PostgreSQL 13+): the database owner may create it.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
--> statement-breakpoint
CREATE INDEX audit_search_trgm ON audit_events USING gin ((
  coalesce(host, '') || chr(1) || coalesce(path, '') || chr(1) || coalesce(reason, '') || chr(1) || coalesce(action, '') || chr(1) ||
  coalesce(actor, '') || chr(1) || coalesce(member, '') || chr(1) || coalesce(rule, '') || chr(1) || coalesce(connection, '') || chr(1) ||
  coalesce(request_id, '')
) gin_trgm_ops);
