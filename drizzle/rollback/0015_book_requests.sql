-- Reverses ../0015_book_requests.sql (run by scripts/db-rollback.js): the requests go; the wanted books they made stay as gaps (reason `request`, which the version before reads as any other reason).
DROP INDEX IF EXISTS `book_requests_missing_book_id_idx`;
--> statement-breakpoint
DROP INDEX IF EXISTS `book_requests_status_idx`;
--> statement-breakpoint
DROP INDEX IF EXISTS `book_requests_requested_by_created_idx`;
--> statement-breakpoint
DROP INDEX IF EXISTS `book_requests_open_asin_unique`;
--> statement-breakpoint
DROP TABLE `book_requests`;
