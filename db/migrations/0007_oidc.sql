ALTER TABLE `org_settings` ADD `oidc_name` text;--> statement-breakpoint
ALTER TABLE `org_settings` ADD `oidc_issuer` text;--> statement-breakpoint
ALTER TABLE `org_settings` ADD `oidc_client_id` text;--> statement-breakpoint
ALTER TABLE `org_settings` ADD `oidc_client_secret_sealed` text;--> statement-breakpoint
ALTER TABLE `org_settings` ADD `oidc_role_claim` text;--> statement-breakpoint
ALTER TABLE `org_settings` ADD `oidc_owner_groups` text;--> statement-breakpoint
ALTER TABLE `org_settings` ADD `oidc_auditor_groups` text;--> statement-breakpoint
ALTER TABLE `org_settings` ADD `password_sign_in` integer DEFAULT true NOT NULL;--> statement-breakpoint
ALTER TABLE `org_settings` ADD `totp_required_for_owners` integer DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE `users` ADD `oidc_issuer` text;--> statement-breakpoint
ALTER TABLE `users` ADD `oidc_subject` text;--> statement-breakpoint
ALTER TABLE `users` ADD `totp_secret_sealed` text;--> statement-breakpoint
ALTER TABLE `users` ADD `totp_pending_sealed` text;--> statement-breakpoint
ALTER TABLE `users` ADD `totp_last_step` integer;--> statement-breakpoint
ALTER TABLE `users` ADD `totp_recovery_hashes` text;--> statement-breakpoint
CREATE UNIQUE INDEX `users_oidc_identity` ON `users` (`oidc_issuer`,`oidc_subject`);