ALTER TABLE `books` ADD `subtitle` text;--> statement-breakpoint
ALTER TABLE `books` ADD `genres` text DEFAULT '[]' NOT NULL;--> statement-breakpoint
ALTER TABLE `books` ADD `additional_series` text DEFAULT '[]' NOT NULL;