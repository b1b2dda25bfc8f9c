CREATE TABLE "audit_archive_segments" (
	"first_seq" bigint PRIMARY KEY NOT NULL,
	"last_seq" bigint NOT NULL,
	"first_prev_hash" text NOT NULL,
	"first_hash" text NOT NULL,
	"last_hash" text NOT NULL,
	"events" integer NOT NULL,
	"file" text NOT NULL,
	"sha256" text NOT NULL,
	"created_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "audit_sinks" (
	"id" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"type" text NOT NULL,
	"format" text NOT NULL,
	"url" text NOT NULL,
	"secret_sealed" text,
	"cursor_seq" bigint DEFAULT 0 NOT NULL,
	"last_delivery_at" bigint,
	"last_error" text,
	"last_error_at" bigint,
	"failures" integer DEFAULT 0 NOT NULL,
	"created_by" text NOT NULL,
	"created_at" bigint NOT NULL,
	CONSTRAINT "audit_sinks_name_unique" UNIQUE("name")
);
--> statement-breakpoint
CREATE TABLE "leases" (
	"name" text PRIMARY KEY NOT NULL,
	"holder" text NOT NULL,
	"expires_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "report_only" (
	"workspace" text NOT NULL,
	"channel" text DEFAULT '' NOT NULL,
	"until" text NOT NULL,
	CONSTRAINT "report_only_workspace_channel_pk" PRIMARY KEY("workspace","channel")
);
--> statement-breakpoint
ALTER TABLE "bundle_domains" ADD COLUMN "expires_at" text;--> statement-breakpoint
ALTER TABLE "connections" ADD COLUMN "expires_at" text;--> statement-breakpoint
ALTER TABLE "org_settings" ADD COLUMN "audit_retention_days" integer;--> statement-breakpoint
CREATE INDEX "audit_credential_status" ON "audit_events" USING btree ("bundle","connection","ts","status") WHERE outcome = 'credentialed' AND status IS NOT NULL;