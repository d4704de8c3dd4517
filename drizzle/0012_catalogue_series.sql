CREATE TABLE `catalogue_series` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`name` text NOT NULL,
	`status` text NOT NULL,
	`lookup` text,
	`series_asin` text,
	`audible_title` text,
	`members` text DEFAULT '[]' NOT NULL,
	`total` integer,
	`checked_at` text NOT NULL,
	`error` text
);
--> statement-breakpoint
CREATE UNIQUE INDEX `catalogue_series_name_lower_unique` ON `catalogue_series` (lower("name"));--> statement-breakpoint
CREATE INDEX `catalogue_series_checked_at_idx` ON `catalogue_series` (`checked_at`);--> statement-breakpoint
ALTER TABLE `missing_books` ADD `title_source` text;--> statement-breakpoint
ALTER TABLE `missing_books` ADD `title_checked_at` text;--> statement-breakpoint
ALTER TABLE `missing_books` ADD `release_date` text;--> statement-breakpoint
ALTER TABLE `series` ADD `total_source` text;--> statement-breakpoint
ALTER TABLE `series` ADD `total_checked_at` text;--> statement-breakpoint
-- Totals already there were typed in by hand (nothing else set them): they keep winning.
UPDATE `series` SET `total_source` = 'hand', `total_checked_at` = `date_updated` WHERE `total_books_in_series` IS NOT NULL;--> statement-breakpoint
UPDATE `missing_books` SET `title_checked_at` = `identified_date`, `title_source` = CASE
  WHEN `reason_missing` = 'new_release' THEN 'release'
  WHEN `series_name` IS NOT NULL AND `title` = `series_name` || ' #' || `series_number` THEN 'library'
  ELSE 'hand' END;
