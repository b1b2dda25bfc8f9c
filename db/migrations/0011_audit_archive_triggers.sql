-- Retention (issue 19): the only deletion the audit log permits is of events already moved into
-- an archive segment (lib/audit/archive.ts), i.e. at or below the last recorded segment's last_seq.
-- The segments' records are themselves append-only, each continuing the one before, so the
-- watermark only ever rises.
DROP TRIGGER audit_events_no_delete;
--> statement-breakpoint
CREATE TRIGGER audit_events_delete_archived_only BEFORE DELETE ON audit_events
WHEN old.seq > (SELECT COALESCE(MAX(last_seq), 0) FROM audit_archive_segments)
BEGIN
  SELECT RAISE(ABORT, 'audit_events is append-only: only archived events may be removed');
END;
--> statement-breakpoint
-- The external-content search index must forget what the table no longer holds.
CREATE TRIGGER audit_events_fts_delete AFTER DELETE ON audit_events
BEGIN
  INSERT INTO audit_fts (audit_fts, rowid, host, path, reason, action, actor, member, rule, connection, request_id)
  VALUES ('delete', old.seq, old.host, old.path, old.reason, old.action, old.actor, old.member, old.rule, old.connection, old.request_id);
END;
--> statement-breakpoint
CREATE TRIGGER audit_archive_segments_no_update BEFORE UPDATE ON audit_archive_segments
BEGIN
  SELECT RAISE(ABORT, 'audit_archive_segments is append-only');
END;
--> statement-breakpoint
CREATE TRIGGER audit_archive_segments_no_delete BEFORE DELETE ON audit_archive_segments
BEGIN
  SELECT RAISE(ABORT, 'audit_archive_segments is append-only');
END;
--> statement-breakpoint
-- A segment continues the last one and covers only events that exist, in order.
CREATE TRIGGER audit_archive_segments_in_order BEFORE INSERT ON audit_archive_segments
WHEN new.first_seq <= (SELECT COALESCE(MAX(last_seq), 0) FROM audit_archive_segments)
  OR new.last_seq < new.first_seq
  OR new.first_prev_hash IS NOT COALESCE((SELECT last_hash FROM audit_archive_segments ORDER BY last_seq DESC LIMIT 1), new.first_prev_hash)
  OR NOT EXISTS (SELECT 1 FROM audit_events WHERE seq = new.last_seq AND hash = new.last_hash)
BEGIN
  SELECT RAISE(ABORT, 'an archive segment must continue the last one and end on a live event');
END;
