CREATE TABLE `api_keys` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`role` text NOT NULL,
	`key_hash` text NOT NULL,
	`prefix` text NOT NULL,
	`created_by` text NOT NULL,
	`created_at` integer DEFAULT (unixepoch('subsec') * 1000) NOT NULL,
	`last_used_at` integer,
	`revoked_at` integer
);
--> statement-breakpoint
CREATE UNIQUE INDEX `api_keys_key_hash_unique` ON `api_keys` (`key_hash`);--> statement-breakpoint
CREATE TABLE `audit_events` (
	`seq` integer PRIMARY KEY NOT NULL,
	`id` text NOT NULL,
	`ts` integer NOT NULL,
	`kind` text NOT NULL,
	`action` text NOT NULL,
	`actor` text,
	`request_id` text,
	`session_id` text,
	`workspace` text,
	`channel` text,
	`thread` text,
	`member` text,
	`bundle` text,
	`connection` text,
	`service_account` text,
	`method` text,
	`scheme` text,
	`host` text,
	`port` integer,
	`path` text,
	`outcome` text,
	`rule` text,
	`reason` text,
	`status` integer,
	`bytes_in` integer,
	`bytes_out` integer,
	`duration_ms` integer,
	`detail` text,
	`prev_hash` text NOT NULL,
	`hash` text NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `audit_events_id_unique` ON `audit_events` (`id`);--> statement-breakpoint
CREATE INDEX `audit_ts` ON `audit_events` (`ts`);--> statement-breakpoint
CREATE INDEX `audit_host_seq` ON `audit_events` (`host`,`seq`);--> statement-breakpoint
CREATE INDEX `audit_request` ON `audit_events` (`request_id`);--> statement-breakpoint
CREATE TABLE `bundle_channels` (
	`bundle_id` integer NOT NULL,
	`channel` text NOT NULL,
	PRIMARY KEY(`bundle_id`, `channel`),
	FOREIGN KEY (`bundle_id`) REFERENCES `bundles`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE TABLE `bundle_domains` (
	`bundle_id` integer NOT NULL,
	`pattern` text NOT NULL,
	`position` integer DEFAULT 0 NOT NULL,
	PRIMARY KEY(`bundle_id`, `pattern`),
	FOREIGN KEY (`bundle_id`) REFERENCES `bundles`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE TABLE `bundles` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`name` text NOT NULL,
	`position` integer DEFAULT 0 NOT NULL,
	`scope_type` text NOT NULL,
	`scope_workspace` text,
	`created_at` integer DEFAULT (unixepoch('subsec') * 1000) NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `bundles_name_unique` ON `bundles` (`name`);--> statement-breakpoint
CREATE TABLE `channels` (
	`workspace` text NOT NULL,
	`channel` text NOT NULL,
	`created_at` integer DEFAULT (unixepoch('subsec') * 1000) NOT NULL,
	PRIMARY KEY(`workspace`, `channel`)
);
--> statement-breakpoint
CREATE TABLE `connection_websites` (
	`connection_id` integer NOT NULL,
	`pattern` text NOT NULL,
	`position` integer DEFAULT 0 NOT NULL,
	PRIMARY KEY(`connection_id`, `pattern`),
	FOREIGN KEY (`connection_id`) REFERENCES `connections`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE TABLE `connections` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`bundle_id` integer NOT NULL,
	`name` text NOT NULL,
	`position` integer DEFAULT 0 NOT NULL,
	`service_account` text NOT NULL,
	`inject_type` text NOT NULL,
	`inject_name` text,
	`narrow_host` text,
	`narrow_path_prefix` text,
	`narrow_methods` text,
	FOREIGN KEY (`bundle_id`) REFERENCES `bundles`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `connections_bundle_name` ON `connections` (`bundle_id`,`name`);--> statement-breakpoint
CREATE TABLE `credentials` (
	`identity` text PRIMARY KEY NOT NULL,
	`sealed` text NOT NULL,
	`fingerprint` text NOT NULL,
	`set_by` text NOT NULL,
	`set_at` integer NOT NULL,
	`last_used_at` integer
);
--> statement-breakpoint
CREATE TABLE `org_deny` (
	`pattern` text PRIMARY KEY NOT NULL,
	`position` integer DEFAULT 0 NOT NULL
);
--> statement-breakpoint
CREATE TABLE `org_settings` (
	`id` integer PRIMARY KEY NOT NULL,
	`member_access_mode` text DEFAULT 'org_members' NOT NULL,
	`member_roles` text DEFAULT '[]' NOT NULL,
	`direct_messages` text DEFAULT 'enabled' NOT NULL,
	`channels_restricted` integer DEFAULT false NOT NULL,
	`idle_timeout_seconds` integer DEFAULT 1800 NOT NULL,
	`max_lifetime_seconds` integer DEFAULT 86400 NOT NULL,
	`policy_revision` integer DEFAULT 0 NOT NULL,
	`sessions_revision` integer DEFAULT 0 NOT NULL,
	`key_check` text,
	`ca_cert_pem` text,
	`ca_key_sealed` text
);
--> statement-breakpoint
CREATE TABLE `sessions` (
	`id` text PRIMARY KEY NOT NULL,
	`token_hash` text NOT NULL,
	`workspace` text NOT NULL,
	`channel` text NOT NULL,
	`thread` text NOT NULL,
	`kind` text NOT NULL,
	`member_id` text NOT NULL,
	`member_org` integer NOT NULL,
	`member_roles` text NOT NULL,
	`created_by` text NOT NULL,
	`created_at` integer NOT NULL,
	`last_seen_at` integer NOT NULL,
	`expires_at` integer NOT NULL,
	`idle_timeout_seconds` integer NOT NULL,
	`revoked_at` integer,
	`revoked_by` text
);
--> statement-breakpoint
CREATE UNIQUE INDEX `sessions_token_hash_unique` ON `sessions` (`token_hash`);--> statement-breakpoint
CREATE INDEX `sessions_created` ON `sessions` (`created_at`);--> statement-breakpoint
CREATE INDEX `sessions_revoked` ON `sessions` (`revoked_at`);--> statement-breakpoint
CREATE TABLE `setup_tokens` (
	`token_hash` text PRIMARY KEY NOT NULL,
	`expires_at` integer NOT NULL,
	`used_at` integer,
	`created_at` integer DEFAULT (unixepoch('subsec') * 1000) NOT NULL
);
--> statement-breakpoint
CREATE TABLE `users` (
	`id` text PRIMARY KEY NOT NULL,
	`email` text NOT NULL,
	`role` text NOT NULL,
	`password_hash` text NOT NULL,
	`failed_attempts` integer DEFAULT 0 NOT NULL,
	`locked_until` integer,
	`last_sign_in_at` integer,
	`created_at` integer DEFAULT (unixepoch('subsec') * 1000) NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `users_email_unique` ON `users` (`email`);