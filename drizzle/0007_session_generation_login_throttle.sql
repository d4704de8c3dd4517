CREATE TABLE `login_throttle` (
	`key` text PRIMARY KEY NOT NULL,
	`account` text NOT NULL,
	`attempts` integer DEFAULT 0 NOT NULL,
	`locked_until` text,
	`expires_at` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `login_throttle_account` ON `login_throttle` (`account`);--> statement-breakpoint
CREATE INDEX `login_throttle_expires_at` ON `login_throttle` (`expires_at`);--> statement-breakpoint
ALTER TABLE `users` ADD `token_generation` integer DEFAULT 0 NOT NULL;