-- Every series of a book (books.series first, then additional_series) and every author (books.author,
-- "A, B" split at ", " as Audiobookshelf joins them) as rows, which completion and gap analysis count
-- (src/services/completion.ts, src/services/gap-analysis.ts): a book in two series counts in both.
-- Triggers keep them in step with every write to books, whoever makes it; the backfill at the end
-- fills them for the books that exist. Triggers are not in src/db/schema/ (drizzle-kit has none), so
-- this part is written by hand below the generated tables.
CREATE TABLE `book_authors` (
	`book_id` integer NOT NULL,
	`position` integer NOT NULL,
	`name` text NOT NULL,
	PRIMARY KEY(`book_id`, `position`),
	FOREIGN KEY (`book_id`) REFERENCES `books`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `book_authors_name_lower_idx` ON `book_authors` (lower("name"),`book_id`);--> statement-breakpoint
CREATE TABLE `book_series` (
	`book_id` integer NOT NULL,
	`position` integer NOT NULL,
	`name` text NOT NULL,
	`sequence` text,
	PRIMARY KEY(`book_id`, `position`),
	FOREIGN KEY (`book_id`) REFERENCES `books`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `book_series_name_lower_idx` ON `book_series` (lower("name"),`book_id`);--> statement-breakpoint
ALTER TABLE `books` ADD `abs_library_id` text;--> statement-breakpoint
ALTER TABLE `books` ADD `files_missing` integer DEFAULT false NOT NULL;
--> statement-breakpoint
CREATE TRIGGER `book_links_after_insert` AFTER INSERT ON `books` BEGIN
  INSERT INTO book_series (book_id, position, name, sequence)
  SELECT new.id, 0, trim(new.series), new.series_number WHERE trim(coalesce(new.series, '')) <> ''
  UNION ALL
  SELECT new.id, 1 + j.key, trim(json_extract(j.value, '$.name')), json_extract(j.value, '$.sequence')
  FROM json_each(CASE WHEN json_valid(new.additional_series) AND json_type(new.additional_series) = 'array' THEN new.additional_series ELSE '[]' END) j
  WHERE json_type(j.value) = 'object' AND trim(coalesce(json_extract(j.value, '$.name'), '')) <> '';
  INSERT INTO book_authors (book_id, position, name)
  SELECT new.id, j.key, trim(j.value) FROM json_each(CASE WHEN json_valid('["' || replace(replace(replace(trim(new.author), '\', '\\'), '"', '\"'), ', ', '","') || '"]') THEN '["' || replace(replace(replace(trim(new.author), '\', '\\'), '"', '\"'), ', ', '","') || '"]' ELSE json_array(trim(new.author)) END) j
  WHERE new.author IS NOT NULL AND trim(j.value) <> '';
END;
--> statement-breakpoint
CREATE TRIGGER `book_series_after_update` AFTER UPDATE OF series, series_number, additional_series ON `books` BEGIN
  DELETE FROM book_series WHERE book_id = old.id;
  INSERT INTO book_series (book_id, position, name, sequence)
  SELECT new.id, 0, trim(new.series), new.series_number WHERE trim(coalesce(new.series, '')) <> ''
  UNION ALL
  SELECT new.id, 1 + j.key, trim(json_extract(j.value, '$.name')), json_extract(j.value, '$.sequence')
  FROM json_each(CASE WHEN json_valid(new.additional_series) AND json_type(new.additional_series) = 'array' THEN new.additional_series ELSE '[]' END) j
  WHERE json_type(j.value) = 'object' AND trim(coalesce(json_extract(j.value, '$.name'), '')) <> '';
END;
--> statement-breakpoint
CREATE TRIGGER `book_authors_after_update` AFTER UPDATE OF author ON `books` BEGIN
  DELETE FROM book_authors WHERE book_id = old.id;
  INSERT INTO book_authors (book_id, position, name)
  SELECT new.id, j.key, trim(j.value) FROM json_each(CASE WHEN json_valid('["' || replace(replace(replace(trim(new.author), '\', '\\'), '"', '\"'), ', ', '","') || '"]') THEN '["' || replace(replace(replace(trim(new.author), '\', '\\'), '"', '\"'), ', ', '","') || '"]' ELSE json_array(trim(new.author)) END) j
  WHERE new.author IS NOT NULL AND trim(j.value) <> '';
END;
--> statement-breakpoint
CREATE TRIGGER `book_links_after_delete` AFTER DELETE ON `books` BEGIN
  DELETE FROM book_series WHERE book_id = old.id;
  DELETE FROM book_authors WHERE book_id = old.id;
END;
--> statement-breakpoint
-- Backfill: the books that exist already.
INSERT INTO book_series (book_id, position, name, sequence)
SELECT b.id, 0, trim(b.series), b.series_number FROM books b WHERE trim(coalesce(b.series, '')) <> '';
--> statement-breakpoint
INSERT INTO book_series (book_id, position, name, sequence)
SELECT b.id, 1 + j.key, trim(json_extract(j.value, '$.name')), json_extract(j.value, '$.sequence')
FROM books b, json_each(CASE WHEN json_valid(b.additional_series) AND json_type(b.additional_series) = 'array' THEN b.additional_series ELSE '[]' END) j
WHERE json_type(j.value) = 'object' AND trim(coalesce(json_extract(j.value, '$.name'), '')) <> '';
--> statement-breakpoint
INSERT INTO book_authors (book_id, position, name)
SELECT b.id, j.key, trim(j.value) FROM books b, json_each(CASE WHEN json_valid('["' || replace(replace(replace(trim(b.author), '\', '\\'), '"', '\"'), ', ', '","') || '"]') THEN '["' || replace(replace(replace(trim(b.author), '\', '\\'), '"', '\"'), ', ', '","') || '"]' ELSE json_array(trim(b.author)) END) j
  WHERE b.author IS NOT NULL AND trim(j.value) <> '';
