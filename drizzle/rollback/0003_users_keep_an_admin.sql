-- Reverses ../0003_users_keep_an_admin.sql (run by scripts/db-rollback.js): only the service guards the last admin again.
DROP TRIGGER `users_keep_an_admin_on_delete`;--> statement-breakpoint
DROP TRIGGER `users_keep_an_admin_on_update`;
