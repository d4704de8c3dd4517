-- Reverses ../0004_book_counts.sql (run by scripts/db-rollback.js): the triggers, then the table.
-- `books` itself is untouched.
DROP TRIGGER `book_counts_after_update`;--> statement-breakpoint
DROP TRIGGER `book_counts_after_delete`;--> statement-breakpoint
DROP TRIGGER `book_counts_after_insert`;--> statement-breakpoint
DROP TABLE `book_counts`;
