-- Reverses ../0001_books_search.sql (run by scripts/db-rollback.js): the triggers first, then the
-- index (dropping the FTS5 table drops its shadow tables too). `books` itself is untouched.
DROP TRIGGER `books_fts_after_update`;--> statement-breakpoint
DROP TRIGGER `books_fts_after_delete`;--> statement-breakpoint
DROP TRIGGER `books_fts_after_insert`;--> statement-breakpoint
DROP TABLE `books_fts`;
