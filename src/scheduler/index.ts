// The scheduler as the routes use it: runs (./runs.ts), pause, resume and crons (./state.ts), and
// what is shown (./overview.ts). The task table is ./tasks.ts, the Cron Trigger's entry ./handler.ts.

export { executionHistory, listTasks, schedulerConfiguration, schedulerStatus, taskDetail, upcomingTasks } from "./overview";
export { recordedRun, triggerAll, triggerTask } from "./runs";
export { pauseTask, resumeTask, setSchedule } from "./state";
export { acquisitionOutcome, analysisOutcome } from "./tasks";
