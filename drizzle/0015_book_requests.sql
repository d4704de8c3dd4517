CREATE TABLE `book_requests` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`asin` text NOT NULL,
	`title` text NOT NULL,
	`author` text,
	`series_name` text,
	`series_number` text,
	`release_date` text,
	`requested_by_user_id` integer,
	`requested_by` text NOT NULL,
	`again` integer DEFAULT false NOT NULL,
	`reason` text,
	`status` text DEFAULT 'pending' NOT NULL,
	`decided_by` text,
	`decision_note` text,
	`decided_at` text,
	`missing_book_id` integer,
	`book_id` integer,
	`created_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) NOT NULL,
	`updated_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) NOT NULL,
	FOREIGN KEY (`requested_by_user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE set null,
	FOREIGN KEY (`missing_book_id`) REFERENCES `missing_books`(`id`) ON UPDATE no action ON DELETE set null,
	FOREIGN KEY (`book_id`) REFERENCES `books`(`id`) ON UPDATE no action ON DELETE set null
);
--> statement-breakpoint
CREATE UNIQUE INDEX `book_requests_open_asin_unique` ON `book_requests` (`asin`) WHERE status IN ('pending', 'approved', 'searching', 'downloading');--> statement-breakpoint
CREATE INDEX `book_requests_requested_by_created_idx` ON `book_requests` (`requested_by`,`created_at`);--> statement-breakpoint
CREATE INDEX `book_requests_status_idx` ON `book_requests` (`status`,`id`);--> statement-breakpoint
CREATE INDEX `book_requests_missing_book_id_idx` ON `book_requests` (`missing_book_id`);