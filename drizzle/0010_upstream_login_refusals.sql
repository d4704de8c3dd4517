CREATE TABLE `upstream_login_refusals` (
	`login_key` text PRIMARY KEY NOT NULL,
	`refused_at` text NOT NULL,
	`detail` text NOT NULL,
	`upstream_status` integer
);
