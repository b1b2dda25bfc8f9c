CREATE TABLE `report_only` (
	`workspace` text NOT NULL,
	`channel` text DEFAULT '' NOT NULL,
	`until` text NOT NULL,
	PRIMARY KEY(`workspace`, `channel`)
);
--> statement-breakpoint
ALTER TABLE `bundle_domains` ADD `expires_at` text;--> statement-breakpoint
ALTER TABLE `connections` ADD `expires_at` text;