-- Free-text search over the audit log (issue 16): a trigram FTS5 index, so `q=` finds any
-- substring of 3 or more characters without scanning the table. External content: the index
-- holds no copy of the events; the hash-chained audit_events table stays the only record, and
-- `audit verify` reads only that. An insert trigger keeps the index in step in the same
-- transaction as the event, whichever code path appends it. Rows are never updated or deleted
-- (see 0001), so no other trigger is needed.
CREATE VIRTUAL TABLE audit_fts USING fts5(
  host, path, reason, action, actor, member, rule, connection, request_id,
  content = 'audit_events', content_rowid = 'seq', tokenize = 'trigram', detail = 'full'
);
--> statement-breakpoint
CREATE TRIGGER audit_events_fts_insert AFTER INSERT ON audit_events
BEGIN
  INSERT INTO audit_fts (rowid, host, path, reason, action, actor, member, rule, connection, request_id)
  VALUES (new.seq, new.host, new.path, new.reason, new.action, new.actor, new.member, new.rule, new.connection, new.request_id);
END;
--> statement-breakpoint
-- Backfill the events already in the log.
INSERT INTO audit_fts (audit_fts) VALUES ('rebuild');
