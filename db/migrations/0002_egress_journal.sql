CREATE TABLE `audit_journal` (
	`file` text PRIMARY KEY NOT NULL,
	`offset` integer NOT NULL
);
--> statement-breakpoint
DROP INDEX `audit_request`;