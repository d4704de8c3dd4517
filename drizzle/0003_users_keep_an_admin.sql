-- At least one active admin user, whatever concurrent requests do: the users service refuses to
-- demote, disable or delete the last one, but two such requests at once could each see the other
-- admin and both pass. These triggers make the database refuse the write that would leave none
-- (the service answers 409). Written by hand: drizzle-kit has no triggers, and ignores this file.
CREATE TRIGGER `users_keep_an_admin_on_update` AFTER UPDATE OF role, is_active ON `users`
WHEN old.role = 'admin' AND old.is_active AND NOT (new.role = 'admin' AND new.is_active)
  AND NOT EXISTS (SELECT 1 FROM users WHERE role = 'admin' AND is_active)
BEGIN
  SELECT RAISE(ABORT, 'last_active_admin');
END;
--> statement-breakpoint
CREATE TRIGGER `users_keep_an_admin_on_delete` AFTER DELETE ON `users`
WHEN old.role = 'admin' AND old.is_active
  AND NOT EXISTS (SELECT 1 FROM users WHERE role = 'admin' AND is_active)
BEGIN
  SELECT RAISE(ABORT, 'last_active_admin');
END;
