-- Reverses ../0002_api_keys_active_name.sql (run by scripts/db-rollback.js): active keys may share a name again.
DROP INDEX `api_keys_active_name_unique`;
