CREATE TABLE `google_books_lookups` (
	`query` text PRIMARY KEY NOT NULL,
	`result` text,
	`fetched_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) NOT NULL
);
--> statement-breakpoint
CREATE TABLE `upstream_quota` (
	`service` text NOT NULL,
	`day` text NOT NULL,
	`calls` integer DEFAULT 0 NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `upstream_quota_service_day_unique` ON `upstream_quota` (`service`,`day`);