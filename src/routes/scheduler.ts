import { type Context, Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "../context";
import { database } from "../db/client";
import { actorOf } from "../lib/actor";
import { pageQuery } from "../lib/pagination";
import { ok } from "../lib/response";
import { decimalInt, validate } from "../lib/validate";
import * as service from "../scheduler";
import type { TaskContext } from "../scheduler/tasks";

/** A task name as sent (matched case-insensitively; an unknown one is a 404). */
const nameParam = z.object({ name: z.string().trim().min(1).max(64) });
const upcomingQuery = z.object({ hours: decimalInt(z.number().min(1).max(168)).default(24) });
/** The cron itself is checked by the service (422 naming what is wrong). */
const scheduleBody = z.object({ cron: z.string().trim().min(1).max(120) }).strict();

/** What a task run from a request gets: the same as from the dispatcher. */
function taskContext(c: Context<AppEnv>): TaskContext {
  return { db: database(c), env: c.env, config: c.var.config };
}

/** `/api/scheduler` (reference 2.8): the dispatcher's schedule, task runs, pause, resume and crons. */
export const scheduler = new Hono<AppEnv>();

scheduler.get("/status", async (c) => ok(c, await service.schedulerStatus(database(c), c.var.config)));

scheduler.get("/tasks", async (c) => ok(c, await service.listTasks(database(c), c.var.config)));

scheduler.get("/task/:name", validate("param", nameParam), async (c) =>
  ok(c, await service.taskDetail(database(c), c.var.config, c.req.valid("param").name)),
);

scheduler.get("/execution-history/:name", validate("param", nameParam), validate("query", pageQuery), async (c) =>
  ok(c, await service.executionHistory(database(c), c.req.valid("param").name, c.req.valid("query"))),
);

scheduler.get("/upcoming-tasks", validate("query", upcomingQuery), async (c) =>
  ok(c, await service.upcomingTasks(database(c), c.req.valid("query").hours)),
);

scheduler.get("/configuration", async (c) => ok(c, await service.schedulerConfiguration(database(c), c.var.config)));

scheduler.post("/trigger-all", async (c) => ok(c, await service.triggerAll(taskContext(c), actorOf(c.var.identity))));

scheduler.post("/trigger/:name", validate("param", nameParam), async (c) =>
  ok(c, await service.triggerTask(taskContext(c), c.req.valid("param").name, actorOf(c.var.identity))),
);

scheduler.put("/task/:name/pause", validate("param", nameParam), async (c) =>
  ok(c, await service.pauseTask(database(c), c.req.valid("param").name, actorOf(c.var.identity))),
);

scheduler.put("/task/:name/resume", validate("param", nameParam), async (c) =>
  ok(c, await service.resumeTask(database(c), c.req.valid("param").name)),
);

scheduler.put("/task/:name/schedule", validate("param", nameParam), validate("json", scheduleBody), async (c) =>
  ok(c, await service.setSchedule(database(c), c.req.valid("param").name, c.req.valid("json").cron, actorOf(c.var.identity))),
);
