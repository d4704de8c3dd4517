import { createRoute } from "@hono/zod-openapi";
import type { Context } from "hono";
import { z } from "zod";
import type { AppEnv } from "../context";
import { database } from "../db/client";
import { actorOf } from "../lib/actor";
import { pageQuery } from "../lib/pagination";
import { ok } from "../lib/response";
import { decimalInt } from "../lib/validate";
import { errors, jsonBody, router, success } from "../openapi/declare";
import * as service from "../scheduler";
import type { TaskContext } from "../scheduler/tasks";
import * as schemas from "./scheduler.schemas";

/** A task name as sent (matched case-insensitively; an unknown one is a 404). */
const nameParam = z.object({ name: z.string().trim().min(1).max(64) });
/** Bounded in hours and in runs per task, so one answer stays small whatever the crons. */
const upcomingQuery = z.object({
  hours: decimalInt(z.number().min(1).max(168)).default(24),
  per_task: decimalInt(z.number().min(1).max(100)).default(24),
});
/** The cron itself is checked by the service (422 naming what is wrong). */
const scheduleBody = z.object({ cron: z.string().trim().min(1).max(120) }).strict();

/** What a task run from a request gets: the same as from the dispatcher. */
function taskContext(c: Context<AppEnv>): TaskContext {
  return { db: database(c), env: c.env, config: c.var.config };
}

/** `/api/scheduler`: the dispatcher's schedule, task runs, pause, resume and crons. */
export const scheduler = router();

const tags = ["scheduler"];
const unknownTask = errors({ 404: "No task has this name" });

scheduler.openapi(
  createRoute({
    method: "get",
    path: "/status",
    tags,
    summary: "Dispatcher status",
    description:
      "Whether the Cron Trigger is ticking, which tasks run now, which are paused or lack their outside service, and the next runs.",
    responses: { 200: success(schemas.statusSchema, "The dispatcher as it is") },
  }),
  async (c) => ok(c, await service.schedulerStatus(database(c), c.var.config)),
);

scheduler.openapi(
  createRoute({
    method: "get",
    path: "/tasks",
    tags,
    summary: "List tasks",
    description: "Every task with its schedule, what it needs and its last run.",
    responses: { 200: success(schemas.taskList, "The tasks") },
  }),
  async (c) => ok(c, await service.listTasks(database(c), c.var.config)),
);

scheduler.openapi(
  createRoute({
    method: "get",
    path: "/task/{name}",
    tags,
    summary: "Get a task",
    description: "The task's schedule, what it needs, and its latest runs (name matched ignoring case).",
    request: { params: nameParam },
    responses: { 200: success(schemas.taskDetailSchema, "The task"), ...unknownTask },
  }),
  async (c) => ok(c, await service.taskDetail(database(c), c.var.config, c.req.valid("param").name)),
);

scheduler.openapi(
  createRoute({
    method: "get",
    path: "/execution-history/{name}",
    tags,
    summary: "A task's runs",
    description: "A page of the task's runs, newest first.",
    request: { params: nameParam, query: pageQuery },
    responses: { 200: success(schemas.executions, "A page of runs"), ...unknownTask },
  }),
  async (c) => ok(c, await service.executionHistory(database(c), c.req.valid("param").name, c.req.valid("query"))),
);

scheduler.openapi(
  createRoute({
    method: "get",
    path: "/upcoming-tasks",
    tags,
    summary: "Upcoming runs",
    description:
      "The runs due in the next `hours` hours (default 24, at most 168), at most `per_task` of each task (default 24, at most 100; `truncated` says a task had more), paused tasks left out, soonest first.",
    request: { query: upcomingQuery },
    responses: { 200: success(schemas.upcoming, "The upcoming runs") },
  }),
  async (c) => {
    const { hours, per_task } = c.req.valid("query");
    return ok(c, await service.upcomingTasks(database(c), hours, per_task));
  },
);

scheduler.openapi(
  createRoute({
    method: "get",
    path: "/configuration",
    tags,
    summary: "Scheduler configuration",
    description: "The schedule as stored and by default, which features are available, the gap analysis settings and the retention.",
    responses: { 200: success(schemas.configurationSchema, "The configuration") },
  }),
  async (c) => ok(c, await service.schedulerConfiguration(database(c), c.var.config)),
);

scheduler.openapi(
  createRoute({
    method: "post",
    path: "/trigger-all",
    tags,
    summary: "Run every task now",
    description:
      "Runs every task that is not paused, one after the other, and answers each run. A task whose outside service is not configured is recorded as skipped.",
    responses: { 200: success(schemas.triggeredAll, "The runs") },
  }),
  async (c) => ok(c, await service.triggerAll(taskContext(c), actorOf(c.var.identity))),
);

scheduler.openapi(
  createRoute({
    method: "post",
    path: "/trigger/{name}",
    tags,
    summary: "Run a task now",
    description: "Runs the task now, paused or not, and answers the recorded run (failed or skipped runs are answers too, not errors).",
    request: { params: nameParam },
    responses: { 200: success(schemas.taskRun, "The run"), ...unknownTask },
  }),
  async (c) => ok(c, await service.triggerTask(taskContext(c), c.req.valid("param").name, actorOf(c.var.identity))),
);

scheduler.openapi(
  createRoute({
    method: "put",
    path: "/task/{name}/pause",
    tags,
    summary: "Pause a task",
    description: "Stops the task's schedule until it is resumed (an explicit trigger still runs it).",
    request: { params: nameParam },
    responses: { 200: success(schemas.paused, "The task is paused"), ...unknownTask },
  }),
  async (c) => ok(c, await service.pauseTask(database(c), c.req.valid("param").name, actorOf(c.var.identity))),
);

scheduler.openapi(
  createRoute({
    method: "put",
    path: "/task/{name}/resume",
    tags,
    summary: "Resume a task",
    description: "Puts the task back on its schedule.",
    request: { params: nameParam },
    responses: { 200: success(schemas.resumed, "The task is resumed, with its next run"), ...unknownTask },
  }),
  async (c) => ok(c, await service.resumeTask(database(c), c.req.valid("param").name)),
);

scheduler.openapi(
  createRoute({
    method: "put",
    path: "/task/{name}/schedule",
    tags,
    summary: "Change a task's cron",
    description:
      "Stores the task's cron (UTC); refused with 422 when Cloudflare would not run it. The task runs at the first dispatcher tick at or after each time.",
    request: { params: nameParam, body: jsonBody(scheduleBody) },
    responses: { 200: success(schemas.scheduled, "The new schedule"), ...unknownTask },
  }),
  async (c) => ok(c, await service.setSchedule(database(c), c.req.valid("param").name, c.req.valid("json").cron, actorOf(c.var.identity))),
);
