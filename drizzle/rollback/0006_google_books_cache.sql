-- Reverses ../0006_google_books_cache.sql (run by scripts/db-rollback.js): the Google Books lookup cache and the quota counts go.
DROP INDEX `upstream_quota_service_day_unique`;
--> statement-breakpoint
DROP TABLE `upstream_quota`;
--> statement-breakpoint
DROP TABLE `google_books_lookups`;
