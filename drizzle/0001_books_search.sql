-- Full-text search over books (GET /api/books/search, GET /api/books?search=): an FTS5 index of the
-- searched columns with the trigram tokenizer, so any substring of 3+ characters is found through the
-- index, case-insensitively. External content: the text lives only in `books`; the triggers keep the
-- index in step with every insert, update of a searched column, and delete. Not in src/db/schema.ts
-- (drizzle-kit has no virtual tables), so this migration is written by hand; drizzle-kit ignores it.
CREATE VIRTUAL TABLE `books_fts` USING fts5(
  title, author, series, narrator, isbn, asin,
  content='books', content_rowid='id', tokenize='trigram case_sensitive 0'
);
--> statement-breakpoint
CREATE TRIGGER `books_fts_after_insert` AFTER INSERT ON `books` BEGIN
  INSERT INTO books_fts (rowid, title, author, series, narrator, isbn, asin)
  VALUES (new.id, new.title, new.author, new.series, new.narrator, new.isbn, new.asin);
END;
--> statement-breakpoint
CREATE TRIGGER `books_fts_after_delete` AFTER DELETE ON `books` BEGIN
  INSERT INTO books_fts (books_fts, rowid, title, author, series, narrator, isbn, asin)
  VALUES ('delete', old.id, old.title, old.author, old.series, old.narrator, old.isbn, old.asin);
END;
--> statement-breakpoint
CREATE TRIGGER `books_fts_after_update` AFTER UPDATE OF title, author, series, narrator, isbn, asin ON `books` BEGIN
  INSERT INTO books_fts (books_fts, rowid, title, author, series, narrator, isbn, asin)
  VALUES ('delete', old.id, old.title, old.author, old.series, old.narrator, old.isbn, old.asin);
  INSERT INTO books_fts (rowid, title, author, series, narrator, isbn, asin)
  VALUES (new.id, new.title, new.author, new.series, new.narrator, new.isbn, new.asin);
END;
--> statement-breakpoint
-- Backfill: index the books that exist already.
INSERT INTO books_fts (rowid, title, author, series, narrator, isbn, asin)
SELECT id, title, author, series, narrator, isbn, asin FROM books;
