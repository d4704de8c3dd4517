-- Reverses ../0009_book_series_authors.sql (run by scripts/db-rollback.js): the triggers, the link tables
-- (derived from books, nothing is lost), and the two sync columns of books.
DROP TRIGGER `book_links_after_delete`;--> statement-breakpoint
DROP TRIGGER `book_authors_after_update`;--> statement-breakpoint
DROP TRIGGER `book_series_after_update`;--> statement-breakpoint
DROP TRIGGER `book_links_after_insert`;--> statement-breakpoint
DROP TABLE `book_series`;--> statement-breakpoint
DROP TABLE `book_authors`;--> statement-breakpoint
ALTER TABLE `books` DROP COLUMN `files_missing`;--> statement-breakpoint
ALTER TABLE `books` DROP COLUMN `abs_library_id`;
