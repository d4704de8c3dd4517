-- Reverses ../0014_notifications.sql (run by scripts/db-rollback.js): the notification endpoints, their delivery log and the last seen health states go (register the endpoints again after a roll forward; their secrets are new).
DROP TABLE `health_states`;
--> statement-breakpoint
DROP INDEX IF EXISTS `notification_deliveries_created_idx`;
--> statement-breakpoint
DROP INDEX IF EXISTS `notification_deliveries_endpoint_idx`;
--> statement-breakpoint
DROP INDEX IF EXISTS `notification_deliveries_due_idx`;
--> statement-breakpoint
DROP TABLE `notification_deliveries`;
--> statement-breakpoint
DROP TABLE `notification_endpoints`;
