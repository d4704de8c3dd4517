-- Reverses ../0011_series_authors_name_key.sql (run by scripts/db-rollback.js): series and authors lose the key look-alike names are compared by (lower(name) stays unique).
DROP INDEX IF EXISTS `series_name_key_unique`;
--> statement-breakpoint
ALTER TABLE `series` DROP COLUMN `name_key`;
--> statement-breakpoint
DROP INDEX IF EXISTS `authors_name_key_unique`;
--> statement-breakpoint
ALTER TABLE `authors` DROP COLUMN `name_key`;
