ALTER TABLE `authors` ADD `name_key` text;--> statement-breakpoint
-- Existing names get the key SQL can compute (no-break and zero-width spaces, BOM, doubled spaces,
-- ASCII case): src/lib/name-key.ts computes it fully for every name written from now on. Names that
-- already look alike keep their rows: the later ones get a key of their own (" #<id>").
UPDATE `authors` SET `name_key` = lower(trim(replace(replace(replace(replace(replace(replace(`name`, char(160), ' '), char(8203), ''), char(65279), ''), '  ', ' '), '  ', ' '), '  ', ' ')));--> statement-breakpoint
UPDATE `authors` SET `name_key` = `name_key` || ' #' || `id` WHERE `id` NOT IN (SELECT min(`id`) FROM `authors` GROUP BY `name_key`);--> statement-breakpoint
CREATE UNIQUE INDEX `authors_name_key_unique` ON `authors` (`name_key`);--> statement-breakpoint
ALTER TABLE `series` ADD `name_key` text;--> statement-breakpoint
UPDATE `series` SET `name_key` = lower(trim(replace(replace(replace(replace(replace(replace(`name`, char(160), ' '), char(8203), ''), char(65279), ''), '  ', ' '), '  ', ' '), '  ', ' ')));--> statement-breakpoint
UPDATE `series` SET `name_key` = `name_key` || ' #' || `id` WHERE `id` NOT IN (SELECT min(`id`) FROM `series` GROUP BY `name_key`);--> statement-breakpoint
CREATE UNIQUE INDEX `series_name_key_unique` ON `series` (`name_key`);
