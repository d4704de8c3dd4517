-- Reverses ../0007_session_generation_login_throttle.sql (run by scripts/db-rollback.js): tokens carry no generation (a password change no longer ends sessions) and login attempts are no longer counted per address.
ALTER TABLE `users` DROP COLUMN `token_generation`;--> statement-breakpoint
DROP INDEX `login_throttle_expires_at`;--> statement-breakpoint
DROP INDEX `login_throttle_account`;--> statement-breakpoint
DROP TABLE `login_throttle`;
