-- Reverses ../0012_catalogue_series.sql (run by scripts/db-rollback.js): the cached Audible catalogue goes (the next refresh asks again), and so do where totals and gap titles came from and the gaps' release dates.
ALTER TABLE `series` DROP COLUMN `total_checked_at`;
--> statement-breakpoint
ALTER TABLE `series` DROP COLUMN `total_source`;
--> statement-breakpoint
ALTER TABLE `missing_books` DROP COLUMN `release_date`;
--> statement-breakpoint
ALTER TABLE `missing_books` DROP COLUMN `title_checked_at`;
--> statement-breakpoint
ALTER TABLE `missing_books` DROP COLUMN `title_source`;
--> statement-breakpoint
DROP INDEX IF EXISTS `catalogue_series_checked_at_idx`;
--> statement-breakpoint
DROP INDEX IF EXISTS `catalogue_series_name_lower_unique`;
--> statement-breakpoint
DROP TABLE `catalogue_series`;
