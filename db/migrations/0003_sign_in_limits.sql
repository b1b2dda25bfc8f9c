CREATE TABLE `sign_in_limits` (
	`scope` text NOT NULL,
	`subject` text NOT NULL,
	`attempts` integer NOT NULL,
	`reset_at` integer NOT NULL,
	`locked_at` integer,
	PRIMARY KEY(`scope`, `subject`)
);
--> statement-breakpoint
ALTER TABLE `users` ADD `session_version` integer DEFAULT 0 NOT NULL;