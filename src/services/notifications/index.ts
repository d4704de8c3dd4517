// Notifications (README, "Notifications"): endpoints (./endpoints.ts), the one way to notify
// (./enqueue.ts), the dispatcher step that sends (./deliver.ts), and the delivery log (./log.ts).

export { deliverDue, MAX_ATTEMPTS, MAX_SENDS_PER_RUN } from "./deliver";
export { createEndpoint, deleteEndpoint, endpointJson, listEndpoints, updateEndpoint } from "./endpoints";
export { enqueueNotification, enqueueNotifications, type NotificationInput } from "./enqueue";
export { listDeliveries, testSend } from "./log";
