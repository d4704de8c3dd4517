-- Reverses ../0010_upstream_login_refusals.sql (run by scripts/db-rollback.js): the remembered refused
-- logins go (each isolate then remembers its own, as before).
DROP TABLE `upstream_login_refusals`;
