CREATE TABLE `audit_archive_segments` (
	`first_seq` integer PRIMARY KEY NOT NULL,
	`last_seq` integer NOT NULL,
	`first_prev_hash` text NOT NULL,
	`first_hash` text NOT NULL,
	`last_hash` text NOT NULL,
	`events` integer NOT NULL,
	`file` text NOT NULL,
	`sha256` text NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `audit_sinks` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`type` text NOT NULL,
	`format` text NOT NULL,
	`url` text NOT NULL,
	`secret_sealed` text,
	`cursor_seq` integer DEFAULT 0 NOT NULL,
	`last_delivery_at` integer,
	`last_error` text,
	`last_error_at` integer,
	`failures` integer DEFAULT 0 NOT NULL,
	`created_by` text NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `audit_sinks_name_unique` ON `audit_sinks` (`name`);--> statement-breakpoint
CREATE TABLE `leases` (
	`name` text PRIMARY KEY NOT NULL,
	`holder` text NOT NULL,
	`expires_at` integer NOT NULL
);
--> statement-breakpoint
ALTER TABLE `org_settings` ADD `audit_retention_days` integer;