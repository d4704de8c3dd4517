-- Reverses ../0008_books_subtitle_genres_series.sql (run by scripts/db-rollback.js): the books lose the subtitle, genres and further series Audiobookshelf gave them.
ALTER TABLE `books` DROP COLUMN `additional_series`;
--> statement-breakpoint
ALTER TABLE `books` DROP COLUMN `genres`;
--> statement-breakpoint
ALTER TABLE `books` DROP COLUMN `subtitle`;
