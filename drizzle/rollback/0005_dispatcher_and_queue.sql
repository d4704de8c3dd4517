-- Reverses ../0005_dispatcher_and_queue.sql (run by scripts/db-rollback.js).
DROP INDEX `missing_books_new_release_unique`;--> statement-breakpoint
ALTER TABLE `scheduler_state` DROP COLUMN `last_checked_at`;--> statement-breakpoint
ALTER TABLE `scheduler_state` DROP COLUMN `cron_updated_by`;--> statement-breakpoint
ALTER TABLE `scheduler_state` DROP COLUMN `cron`;--> statement-breakpoint
ALTER TABLE `downloads` DROP COLUMN `progress`;--> statement-breakpoint
ALTER TABLE `downloads` DROP COLUMN `qbittorrent_status_since`;
