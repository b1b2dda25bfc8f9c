CREATE INDEX `audit_channel_seq` ON `audit_events` (`channel`,`seq`);--> statement-breakpoint
CREATE INDEX `audit_channel_outcome_seq` ON `audit_events` (`channel`,`outcome`,`seq`);