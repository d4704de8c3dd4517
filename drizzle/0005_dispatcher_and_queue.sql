ALTER TABLE `downloads` ADD `qbittorrent_status_since` text;--> statement-breakpoint
ALTER TABLE `downloads` ADD `progress` real;--> statement-breakpoint
ALTER TABLE `scheduler_state` ADD `cron` text;--> statement-breakpoint
ALTER TABLE `scheduler_state` ADD `cron_updated_by` text;--> statement-breakpoint
ALTER TABLE `scheduler_state` ADD `last_checked_at` text;--> statement-breakpoint
CREATE UNIQUE INDEX `missing_books_new_release_unique` ON `missing_books` (`author_id`,`title`) WHERE reason_missing = 'new_release';