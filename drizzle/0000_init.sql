CREATE TABLE `api_keys` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`name` text NOT NULL,
	`role` text NOT NULL,
	`key_hash` text NOT NULL,
	`key_prefix` text NOT NULL,
	`created_by` text,
	`created_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) NOT NULL,
	`last_used_at` text,
	`revoked_at` text
);
--> statement-breakpoint
CREATE UNIQUE INDEX `api_keys_key_hash_unique` ON `api_keys` (`key_hash`);--> statement-breakpoint
CREATE TABLE `audit_logs` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`user_id` integer,
	`actor` text NOT NULL,
	`username` text,
	`action` text NOT NULL,
	`resource` text NOT NULL,
	`resource_id` text,
	`details` text DEFAULT '{}' NOT NULL,
	`ip_address` text,
	`user_agent` text,
	`timestamp` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) NOT NULL,
	FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE set null
);
--> statement-breakpoint
CREATE INDEX `audit_logs_timestamp_idx` ON `audit_logs` (`timestamp`);--> statement-breakpoint
CREATE INDEX `audit_logs_user_id_timestamp_idx` ON `audit_logs` (`user_id`,`timestamp`);--> statement-breakpoint
CREATE INDEX `audit_logs_action_timestamp_idx` ON `audit_logs` (`action`,`timestamp`);--> statement-breakpoint
CREATE INDEX `audit_logs_resource_timestamp_idx` ON `audit_logs` (`resource`,`timestamp`);--> statement-breakpoint
CREATE TABLE `authors` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`name` text NOT NULL,
	`hardcover_id` text,
	`goodreads_id` text,
	`google_books_id` text,
	`mam_author_id` text,
	`total_audiobooks_external` integer,
	`audiobooks_owned` integer DEFAULT 0 NOT NULL,
	`audiobooks_missing` integer DEFAULT 0 NOT NULL,
	`last_completion_check` text,
	`completion_status` text,
	`date_created` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) NOT NULL,
	`date_updated` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `authors_name_lower_unique` ON `authors` (lower("name"));--> statement-breakpoint
CREATE INDEX `authors_hardcover_id_idx` ON `authors` (`hardcover_id`);--> statement-breakpoint
CREATE INDEX `authors_goodreads_id_idx` ON `authors` (`goodreads_id`);--> statement-breakpoint
CREATE INDEX `authors_last_completion_check_idx` ON `authors` (`last_completion_check`);--> statement-breakpoint
CREATE INDEX `authors_completion_status_idx` ON `authors` (`completion_status`);--> statement-breakpoint
CREATE INDEX `authors_owned_name_idx` ON `authors` (`audiobooks_owned`,`name`);--> statement-breakpoint
CREATE TABLE `books` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`abs_id` text,
	`title` text NOT NULL,
	`author` text,
	`series` text,
	`series_number` text,
	`isbn` text,
	`asin` text,
	`publisher` text,
	`published_year` integer,
	`duration_minutes` integer,
	`description` text,
	`metadata_completeness_percent` integer DEFAULT 0 NOT NULL,
	`last_metadata_update` text,
	`metadata_source` text DEFAULT '{}' NOT NULL,
	`date_added` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) NOT NULL,
	`date_updated` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) NOT NULL,
	`import_source` text,
	`status` text DEFAULT 'active' NOT NULL,
	`narrator` text,
	`quality_score` real,
	`mam_rule_version` integer,
	`duplicate_status` text DEFAULT 'none' NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `books_abs_id_unique` ON `books` (`abs_id`);--> statement-breakpoint
CREATE INDEX `books_title_idx` ON `books` (`title`);--> statement-breakpoint
CREATE INDEX `books_author_idx` ON `books` (`author`);--> statement-breakpoint
CREATE INDEX `books_series_idx` ON `books` (`series`);--> statement-breakpoint
CREATE INDEX `books_date_added_idx` ON `books` (`date_added`);--> statement-breakpoint
CREATE INDEX `books_status_date_added_idx` ON `books` (`status`,`date_added`);--> statement-breakpoint
CREATE INDEX `books_status_title_idx` ON `books` (`status`,`title`);--> statement-breakpoint
CREATE INDEX `books_status_completeness_idx` ON `books` (`status`,`metadata_completeness_percent`);--> statement-breakpoint
CREATE INDEX `books_series_lower_status_idx` ON `books` (lower("series"),`status`);--> statement-breakpoint
CREATE INDEX `books_author_lower_status_idx` ON `books` (lower("author"),`status`);--> statement-breakpoint
CREATE TABLE `downloads` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`book_id` integer,
	`missing_book_id` integer,
	`title` text NOT NULL,
	`author` text,
	`source` text NOT NULL,
	`magnet_link` text,
	`torrent_url` text,
	`qbittorrent_hash` text,
	`qbittorrent_status` text,
	`status` text DEFAULT 'queued' NOT NULL,
	`retry_count` integer DEFAULT 0 NOT NULL,
	`max_retries` integer DEFAULT 3 NOT NULL,
	`last_attempt` text,
	`next_retry` text,
	`abs_import_status` text,
	`abs_import_error` text,
	`date_queued` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) NOT NULL,
	`date_completed` text,
	`metadata_json` text,
	`metadata_applied_at` text,
	`integrity_status` text DEFAULT 'pending' NOT NULL,
	`release_edition` text,
	`quality_score` real,
	`is_paid` integer DEFAULT false NOT NULL,
	`emergency_blocked` integer DEFAULT false NOT NULL,
	`paid_download_allowed` integer DEFAULT true NOT NULL,
	`freeze_timestamp` text,
	`emergency_reason` text,
	FOREIGN KEY (`book_id`) REFERENCES `books`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`missing_book_id`) REFERENCES `missing_books`(`id`) ON UPDATE no action ON DELETE set null
);
--> statement-breakpoint
CREATE INDEX `downloads_date_queued_idx` ON `downloads` (`date_queued`);--> statement-breakpoint
CREATE INDEX `downloads_status_date_queued_idx` ON `downloads` (`status`,`date_queued`);--> statement-breakpoint
CREATE INDEX `downloads_status_last_attempt_idx` ON `downloads` (`status`,`last_attempt`);--> statement-breakpoint
CREATE INDEX `downloads_status_next_retry_idx` ON `downloads` (`status`,`next_retry`);--> statement-breakpoint
CREATE INDEX `downloads_source_idx` ON `downloads` (`source`);--> statement-breakpoint
CREATE INDEX `downloads_qbittorrent_hash_idx` ON `downloads` (`qbittorrent_hash`);--> statement-breakpoint
CREATE INDEX `downloads_book_id_idx` ON `downloads` (`book_id`);--> statement-breakpoint
CREATE INDEX `downloads_missing_book_id_idx` ON `downloads` (`missing_book_id`);--> statement-breakpoint
CREATE TABLE `failed_attempts` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`task_name` text NOT NULL,
	`item_id` integer,
	`item_name` text,
	`reason` text NOT NULL,
	`error_code` text,
	`error_details` text,
	`first_attempt` text,
	`last_attempt` text NOT NULL,
	`attempt_count` integer DEFAULT 1 NOT NULL,
	`attempt_metadata` text DEFAULT '{}' NOT NULL,
	`created_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) NOT NULL
);
--> statement-breakpoint
CREATE INDEX `failed_attempts_task_item_idx` ON `failed_attempts` (`task_name`,`item_id`);--> statement-breakpoint
CREATE INDEX `failed_attempts_last_attempt_idx` ON `failed_attempts` (`last_attempt`);--> statement-breakpoint
CREATE TABLE `gap_runs` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`started_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) NOT NULL,
	`finished_at` text,
	`status` text DEFAULT 'running' NOT NULL,
	`series_analyzed` integer DEFAULT 0 NOT NULL,
	`authors_analyzed` integer DEFAULT 0 NOT NULL,
	`gaps_found` integer DEFAULT 0 NOT NULL,
	`gaps_resolved` integer DEFAULT 0 NOT NULL,
	`stats` text DEFAULT '{}' NOT NULL,
	`error_message` text
);
--> statement-breakpoint
CREATE INDEX `gap_runs_started_at_idx` ON `gap_runs` (`started_at`);--> statement-breakpoint
CREATE TABLE `metadata_corrections` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`book_id` integer NOT NULL,
	`field_name` text NOT NULL,
	`old_value` text,
	`new_value` text,
	`source` text NOT NULL,
	`reason` text,
	`correction_date` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) NOT NULL,
	`corrected_by` text DEFAULT 'system' NOT NULL,
	FOREIGN KEY (`book_id`) REFERENCES `books`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `metadata_corrections_book_id_date_idx` ON `metadata_corrections` (`book_id`,`correction_date`);--> statement-breakpoint
CREATE INDEX `metadata_corrections_source_date_idx` ON `metadata_corrections` (`source`,`correction_date`);--> statement-breakpoint
CREATE INDEX `metadata_corrections_date_idx` ON `metadata_corrections` (`correction_date`);--> statement-breakpoint
CREATE INDEX `metadata_corrections_field_name_idx` ON `metadata_corrections` (`field_name`);--> statement-breakpoint
CREATE TABLE `missing_books` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`book_id` integer,
	`series_id` integer,
	`author_id` integer,
	`download_id` integer,
	`title` text NOT NULL,
	`author_name` text,
	`series_name` text,
	`series_number` text,
	`reason_missing` text NOT NULL,
	`isbn` text,
	`asin` text,
	`hardcover_id` text,
	`goodreads_id` text,
	`identified_date` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) NOT NULL,
	`download_status` text DEFAULT 'identified' NOT NULL,
	`priority` integer DEFAULT 1 NOT NULL,
	FOREIGN KEY (`book_id`) REFERENCES `books`(`id`) ON UPDATE no action ON DELETE set null,
	FOREIGN KEY (`series_id`) REFERENCES `series`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`author_id`) REFERENCES `authors`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`download_id`) REFERENCES `downloads`(`id`) ON UPDATE no action ON DELETE set null
);
--> statement-breakpoint
CREATE UNIQUE INDEX `missing_books_series_number_reason_unique` ON `missing_books` (`series_id`,`series_number`,`reason_missing`);--> statement-breakpoint
CREATE INDEX `missing_books_author_id_idx` ON `missing_books` (`author_id`);--> statement-breakpoint
CREATE INDEX `missing_books_book_id_idx` ON `missing_books` (`book_id`);--> statement-breakpoint
CREATE INDEX `missing_books_download_id_idx` ON `missing_books` (`download_id`);--> statement-breakpoint
CREATE INDEX `missing_books_download_status_idx` ON `missing_books` (`download_status`);--> statement-breakpoint
CREATE INDEX `missing_books_identified_date_idx` ON `missing_books` (`identified_date`);--> statement-breakpoint
CREATE TABLE `revoked_tokens` (
	`jti` text PRIMARY KEY NOT NULL,
	`user_id` integer,
	`expires_at` text NOT NULL,
	`revoked_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) NOT NULL
);
--> statement-breakpoint
CREATE INDEX `revoked_tokens_expires_at_idx` ON `revoked_tokens` (`expires_at`);--> statement-breakpoint
CREATE TABLE `scheduler_state` (
	`task_name` text PRIMARY KEY NOT NULL,
	`paused` integer DEFAULT false NOT NULL,
	`paused_at` text,
	`paused_by` text,
	`updated_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) NOT NULL
);
--> statement-breakpoint
CREATE TABLE `series` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`name` text NOT NULL,
	`author` text,
	`hardcover_id` text,
	`goodreads_id` text,
	`total_books_in_series` integer,
	`books_owned` integer DEFAULT 0 NOT NULL,
	`books_missing` integer DEFAULT 0 NOT NULL,
	`completion_percentage` integer DEFAULT 0 NOT NULL,
	`last_completion_check` text,
	`completion_status` text,
	`date_created` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) NOT NULL,
	`date_updated` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `series_name_lower_unique` ON `series` (lower("name"));--> statement-breakpoint
CREATE INDEX `series_hardcover_id_idx` ON `series` (`hardcover_id`);--> statement-breakpoint
CREATE INDEX `series_goodreads_id_idx` ON `series` (`goodreads_id`);--> statement-breakpoint
CREATE INDEX `series_completion_status_idx` ON `series` (`completion_status`);--> statement-breakpoint
CREATE INDEX `series_completion_pct_name_idx` ON `series` (`completion_percentage`,`name`);--> statement-breakpoint
CREATE TABLE `tasks` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`task_name` text NOT NULL,
	`scheduled_time` text,
	`actual_start` text,
	`actual_end` text,
	`duration_seconds` integer,
	`status` text NOT NULL,
	`items_processed` integer DEFAULT 0 NOT NULL,
	`items_succeeded` integer DEFAULT 0 NOT NULL,
	`items_failed` integer DEFAULT 0 NOT NULL,
	`log_output` text,
	`error_message` text,
	`task_metadata` text DEFAULT '{}' NOT NULL,
	`date_created` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) NOT NULL,
	`vip_status` text,
	`vip_expiry_date` text,
	`renewal_decision` text,
	`point_balance` integer,
	`renewal_cost` integer,
	`rules_updated` integer,
	`pending_items_processed` integer,
	`current_ratio` real,
	`emergency_active` integer DEFAULT false NOT NULL
);
--> statement-breakpoint
CREATE INDEX `tasks_task_name_date_created_idx` ON `tasks` (`task_name`,`date_created`);--> statement-breakpoint
CREATE INDEX `tasks_status_idx` ON `tasks` (`status`);--> statement-breakpoint
CREATE INDEX `tasks_scheduled_time_idx` ON `tasks` (`scheduled_time`);--> statement-breakpoint
CREATE INDEX `tasks_date_created_idx` ON `tasks` (`date_created`);--> statement-breakpoint
CREATE TABLE `users` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`username` text NOT NULL,
	`email` text NOT NULL,
	`password_hash` text NOT NULL,
	`role` text DEFAULT 'viewer' NOT NULL,
	`is_active` integer DEFAULT true NOT NULL,
	`last_login` text,
	`created_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) NOT NULL,
	`updated_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) NOT NULL,
	`login_attempts` integer DEFAULT 0 NOT NULL,
	`locked_until` text
);
--> statement-breakpoint
CREATE UNIQUE INDEX `users_username_unique` ON `users` (`username`);--> statement-breakpoint
CREATE UNIQUE INDEX `users_email_unique` ON `users` (`email`);