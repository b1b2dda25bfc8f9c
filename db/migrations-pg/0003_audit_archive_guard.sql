-- Retention (issue 19), as SQLite's migration 0011: the only deletion the audit log permits is of
-- events already moved into an archive segment (lib/audit/archive.ts), i.e. at or below the last
-- recorded segment's last_seq. The segments' records are themselves append-only, each continuing
-- the one before, so the watermark only ever rises. TRUNCATE stays refused (migration 0001).
DROP TRIGGER audit_events_no_delete ON audit_events;
--> statement-breakpoint
CREATE FUNCTION audit_events_delete_archived_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF old.seq > (SELECT COALESCE(MAX(last_seq), 0) FROM audit_archive_segments) THEN
    RAISE EXCEPTION 'audit_events is append-only: only archived events may be removed';
  END IF;
  RETURN old;
END;
$$;
--> statement-breakpoint
CREATE TRIGGER audit_events_delete_archived_only BEFORE DELETE ON audit_events FOR EACH ROW EXECUTE FUNCTION audit_events_delete_archived_only();
--> statement-breakpoint
CREATE FUNCTION audit_archive_segments_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_archive_segments is append-only';
END;
$$;
--> statement-breakpoint
CREATE TRIGGER audit_archive_segments_no_update BEFORE UPDATE ON audit_archive_segments FOR EACH ROW EXECUTE FUNCTION audit_archive_segments_append_only();
--> statement-breakpoint
CREATE TRIGGER audit_archive_segments_no_delete BEFORE DELETE ON audit_archive_segments FOR EACH ROW EXECUTE FUNCTION audit_archive_segments_append_only();
--> statement-breakpoint
CREATE TRIGGER audit_archive_segments_no_truncate BEFORE TRUNCATE ON audit_archive_segments FOR EACH STATEMENT EXECUTE FUNCTION audit_archive_segments_append_only();
--> statement-breakpoint
-- A segment continues the last one and covers only events that exist, in order.
CREATE FUNCTION audit_archive_segments_in_order() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF new.first_seq <= (SELECT COALESCE(MAX(last_seq), 0) FROM audit_archive_segments)
    OR new.last_seq < new.first_seq
    OR new.first_prev_hash IS DISTINCT FROM COALESCE((SELECT last_hash FROM audit_archive_segments ORDER BY last_seq DESC LIMIT 1), new.first_prev_hash)
    OR NOT EXISTS (SELECT 1 FROM audit_events WHERE seq = new.last_seq AND hash = new.last_hash) THEN
    RAISE EXCEPTION 'an archive segment must continue the last one and end on a live event';
  END IF;
  RETURN new;
END;
$$;
--> statement-breakpoint
CREATE TRIGGER audit_archive_segments_in_order BEFORE INSERT ON audit_archive_segments FOR EACH ROW EXECUTE FUNCTION audit_archive_segments_in_order();
