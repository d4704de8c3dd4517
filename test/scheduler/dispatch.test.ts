import { createExecutionContext, createScheduledController, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { and, eq, inArray } from "drizzle-orm";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { getConfig } from "../../src/config";
import { primaryDatabase } from "../../src/db/client";
import { notificationEndpoints, schedulerState, tasks } from "../../src/db/schema";
import worker from "../../src/index";
import { dispatch } from "../../src/scheduler/dispatch";
import { TICK_CRON } from "../../src/scheduler/schedule";
import { TASK_NAMES } from "../../src/scheduler/tasks";
import { createEndpoint, enqueueNotification } from "../../src/services/notifications";
import wranglerToml from "../../wrangler.toml?raw";
import { bearer, createUser, loginAs } from "../fixtures";
import { errorShape } from "../helpers";
import { NTFY_TOKEN, NTFY_URL } from "../integrations/fake-notify";
import { api, ISO } from "../library";

const db = primaryDatabase(env);
const ctx = { db, env, config: getConfig(env) };

/** The `crons = [...]` of one table of wrangler.toml, e.g. "triggers" or "env.production.triggers". */
function cronsIn(table: string): string[] {
  const start = wranglerToml.indexOf(`\n[${table}]\n`);
  expect(start, `wrangler.toml has no [${table}]`).toBeGreaterThanOrEqual(0);
  const body = wranglerToml.slice(start + table.length + 4).split(/\n\[/)[0]!;
  const list = /^crons\s*=\s*\[([^\]]*)\]/m.exec(body);
  expect(list, `[${table}] has no crons`).not.toBeNull();
  return JSON.parse(`[${list![1]!.replace(/,\s*$/, "")}]`);
}

/** Fires the Cron Trigger at the Worker's scheduled() handler, as Cloudflare would. */
async function tick(at: string) {
  const controller = createScheduledController({ cron: TICK_CRON, scheduledTime: Date.parse(at) });
  const context = createExecutionContext();
  await worker.scheduled(controller, env, context);
  await waitOnExecutionContext(context);
}

/** Which tasks ran (a row, whatever its status) at the tick `at`, in run order. */
async function ranAt(at: string): Promise<string[]> {
  const rows = await db
    .select()
    .from(tasks)
    .where(and(inArray(tasks.scheduledTime, [at])))
    .orderBy(tasks.id);
  return rows.map((row) => row.taskName);
}

// Times of these tests are years ahead of any other test's, and each test starts from no marks
// and no changed crons (pause rows, set by the route tests, are left alone).
beforeEach(async () => {
  await db.update(schedulerState).set({ lastCheckedAt: null, cron: null, paused: false, pausedAt: null, pausedBy: null });
});

describe("one Cron Trigger", () => {
  it("is the only trigger in wrangler.toml, at the top level and in production", () => {
    expect(cronsIn("triggers")).toEqual([TICK_CRON]);
    expect(cronsIn("env.production.triggers")).toEqual([TICK_CRON]);
  });
});

describe("the dispatcher", () => {
  it("runs at each tick the tasks whose cron came due since the last one, in table order", async () => {
    await tick("2051-03-04T00:55:00.000Z");
    expect(await ranAt("2051-03-04T00:55:00.000Z")).toEqual(["CATALOGUE", "QUEUE"]);
    await tick("2051-03-04T01:00:00.000Z");
    expect(await ranAt("2051-03-04T01:00:00.000Z")).toEqual(["GAPS", "QUEUE", "CLEANUP"]);
    await tick("2051-03-04T01:05:00.000Z");
    expect(await ranAt("2051-03-04T01:05:00.000Z")).toEqual(["CATALOGUE", "QUEUE"]);
    await tick("2051-03-04T01:30:00.000Z");
    // The ticks between were missed: QUEUE catches up once, ACQUIRE runs at its time.
    expect(await ranAt("2051-03-04T01:30:00.000Z")).toEqual(["CATALOGUE", "ACQUIRE", "QUEUE"]);
  });

  it("records each run with its tick, and a task without its service as skipped", async () => {
    const at = "2051-03-05T01:30:00.000Z";
    await tick("2051-03-05T01:25:00.000Z");
    await tick(at);
    const rows = await db
      .select()
      .from(tasks)
      .where(inArray(tasks.scheduledTime, [at]));
    const acquire = rows.find((row) => row.taskName === "ACQUIRE")!;
    expect(acquire).toMatchObject({
      status: "skipped",
      errorMessage: expect.stringContaining("Prowlarr is not configured"),
      taskMetadata: { trigger: "cron", cron: "30 1 * * *" },
    });
    expect(rows.find((row) => row.taskName === "QUEUE")).toMatchObject({
      status: "skipped",
      errorMessage: expect.stringContaining("qBittorrent is not configured"),
    });
  });

  it("crosses a day, a week and a month boundary", async () => {
    // Saturday 2051-04-29 → Sunday 2051-04-30 → Monday 2051-05-01.
    await tick("2051-04-29T02:55:00.000Z");
    await tick("2051-04-29T03:00:00.000Z");
    expect(await ranAt("2051-04-29T03:00:00.000Z")).toEqual(["QUEUE"]);
    await tick("2051-04-30T02:55:00.000Z");
    await tick("2051-04-30T03:00:00.000Z");
    expect(await ranAt("2051-04-30T03:00:00.000Z")).toEqual(["AUTHOR_WATCH", "QUEUE"]);
    await tick("2051-04-30T04:30:00.000Z");
    expect(await ranAt("2051-04-30T04:30:00.000Z")).toEqual(["CATALOGUE", "QUEUE", "METADATA_NEW"]);
    await tick("2051-05-01T03:55:00.000Z");
    await tick("2051-05-01T04:00:00.000Z");
    expect(await ranAt("2051-05-01T04:00:00.000Z")).toEqual(["QUEUE", "METADATA_FULL"]);
  });

  it("catches a missed day up once, not once per missed time", async () => {
    await tick("2051-06-01T12:00:00.000Z");
    // Thursday noon to Sunday noon without a tick: the daily tasks missed three times, SERIES
    // (the 2nd), AUTHOR (the 3rd), AUTHOR_WATCH and METADATA_NEW (Sunday) once each.
    await tick("2051-06-04T12:00:00.000Z");
    const ran = await ranAt("2051-06-04T12:00:00.000Z");
    expect(ran).toEqual([
      "LIBRARY_SYNC",
      "CATALOGUE",
      "GAPS",
      "AUTHOR_WATCH",
      "ACQUIRE",
      "QUEUE",
      "METADATA_NEW",
      "SERIES",
      "AUTHOR",
      "CLEANUP",
    ]);
    await tick("2051-06-04T12:05:00.000Z");
    expect(await ranAt("2051-06-04T12:05:00.000Z")).toEqual(["CATALOGUE", "QUEUE"]);
  });

  it("runs a task for a tick once, even when the tick is delivered twice at once", async () => {
    await tick("2051-07-01T00:55:00.000Z");
    const at = new Date("2051-07-01T01:00:00.000Z");
    const [a, b] = await Promise.all([dispatch(ctx, at), dispatch(ctx, at)]);
    expect([...a.ran, ...b.ran].map((row) => row.task_name).sort()).toEqual(["CLEANUP", "GAPS", "QUEUE"]);
    expect(await ranAt(at.toISOString())).toHaveLength(3);
    // A late, older tick changes nothing either: not now, and not the next tick's window (no task runs twice).
    await tick("2051-07-01T00:50:00.000Z");
    expect(await ranAt("2051-07-01T00:50:00.000Z")).toEqual([]);
    await tick("2051-07-01T01:05:00.000Z");
    expect(await ranAt("2051-07-01T01:05:00.000Z")).toEqual(["CATALOGUE", "QUEUE"]);
  });

  it("logs the notifications a tick sent or gave up on, and no line for a tick that had none", async () => {
    await db.delete(notificationEndpoints);
    const actor = { identity: undefined, ip: "192.0.2.1", userAgent: null };
    const endpoint = await createEndpoint(db, ctx.config, actor, {
      name: "ops",
      kind: "ntfy",
      url: NTFY_URL,
      token: NTFY_TOKEN,
      events: ["task.failed"],
    });
    const first = new Date("2052-02-03T00:05:00.000Z");
    await enqueueNotification(db, "task.failed", { task: "GAPS" }, first);
    // Disabled before it was sent: the delivery ends unsent (gave up), and nothing is sent.
    await db.update(notificationEndpoints).set({ enabled: false }).where(eq(notificationEndpoints.id, endpoint.id));
    const log = vi.spyOn(console, "log").mockImplementation(() => {});
    const lines = () =>
      log.mock.calls.map(([line]) => JSON.parse(String(line)) as { event: string }).filter((line) => line.event === "notifications_sent");
    try {
      expect((await dispatch(ctx, first)).notifications).toMatchObject({ sent: 0, gave_up: 1 });
      expect(lines()).toEqual([expect.objectContaining({ level: "info", sent: 0, gave_up: 1 })]);
      log.mockClear();
      expect((await dispatch(ctx, new Date("2052-02-03T00:10:00.000Z"))).notifications).toMatchObject({ sent: 0, gave_up: 0 });
      expect(lines()).toEqual([]);
    } finally {
      log.mockRestore();
    }
  });

  it("skips a paused task, and does not catch up its paused time on resume", async () => {
    await tick("2051-08-01T00:55:00.000Z");
    expect((await api("/api/scheduler/task/GAPS/pause", { method: "PUT" })).status).toBe(200);
    const paused = await dispatch(ctx, new Date("2051-08-01T01:00:00.000Z"));
    expect(paused.skipped_paused).toEqual(["GAPS"]);
    expect(await ranAt("2051-08-01T01:00:00.000Z")).toEqual(["QUEUE", "CLEANUP"]);
    expect((await api("/api/scheduler/task/GAPS/resume", { method: "PUT" })).status).toBe(200);
    await tick("2051-08-01T01:05:00.000Z");
    expect(await ranAt("2051-08-01T01:05:00.000Z")).toEqual(["CATALOGUE", "QUEUE"]);
  });
});

describe("PUT /api/scheduler/task/:name/schedule", () => {
  it("moves a task to another time from the next tick, and back to its default", async () => {
    await tick("2051-09-01T00:55:00.000Z");
    const { status, body } = await api("/api/scheduler/task/gaps/schedule", { method: "PUT", json: { cron: " 15  6 * * * " } });
    expect(status).toBe(200);
    expect(body.data).toMatchObject({
      task_name: "GAPS",
      cron: "15 6 * * *",
      default_cron: "0 1 * * *",
      is_default: false,
      next_run_time: ISO,
    });
    await tick("2051-09-01T01:00:00.000Z");
    expect(await ranAt("2051-09-01T01:00:00.000Z")).toEqual(["QUEUE", "CLEANUP"]);
    await tick("2051-09-01T06:10:00.000Z");
    await tick("2051-09-01T06:15:00.000Z");
    expect(await ranAt("2051-09-01T06:15:00.000Z")).toEqual(["CATALOGUE", "GAPS", "QUEUE"]);

    const listed = (await api("/api/scheduler/tasks")).body.data.tasks.find((t: { task_name: string }) => t.task_name === "GAPS");
    expect(listed).toMatchObject({ cron: "15 6 * * *", default_cron: "0 1 * * *" });
    expect((await api("/api/scheduler/configuration")).body.data.task_schedules.GAPS).toBe("15 6 * * *");

    const back = await api("/api/scheduler/task/GAPS/schedule", { method: "PUT", json: { cron: "0 1 * * *" } });
    expect(back.body.data).toMatchObject({ cron: "0 1 * * *", is_default: true });
    await tick("2051-09-02T00:55:00.000Z");
    await tick("2051-09-02T01:00:00.000Z");
    expect(await ranAt("2051-09-02T01:00:00.000Z")).toEqual(["GAPS", "QUEUE", "CLEANUP"]);
  });

  it("counts a changed cron from the change: an earlier time today is not a missed run", async () => {
    await tick("2051-10-01T11:55:00.000Z");
    // Changed at 12:00 (the mark) to a time that already passed today.
    await db.update(schedulerState).set({ lastCheckedAt: "2051-10-01T12:00:00.000Z" });
    expect((await api("/api/scheduler/task/SERIES/schedule", { method: "PUT", json: { cron: "0 9 * * *" } })).status).toBe(200);
    await tick("2051-10-01T12:05:00.000Z");
    expect(await ranAt("2051-10-01T12:05:00.000Z")).toEqual(["CATALOGUE", "QUEUE"]);
  });

  it.each([["61 * * * *"], ["0 3 * *"], ["0 0 3 * * *"], ["banana"], ["0 0 31 2 *"]])(
    "refuses %j with 422 naming body.cron",
    async (cron) => {
      const { status, body } = await api("/api/scheduler/task/GAPS/schedule", { method: "PUT", json: { cron } });
      expect(status).toBe(422);
      expect(body).toMatchObject(errorShape(422, "validation_error"));
      expect(body.errors[0]).toMatchObject({ path: "body.cron" });
    },
  );

  it("answers 404 for an unknown task, 422 without a cron, 403 below admin", async () => {
    expect((await api("/api/scheduler/task/NOPE/schedule", { method: "PUT", json: { cron: "0 1 * * *" } })).status).toBe(404);
    expect((await api("/api/scheduler/task/GAPS/schedule", { method: "PUT", json: {} })).status).toBe(422);
    const viewer = bearer(await loginAs(await createUser("viewer")));
    const res = await api("/api/scheduler/task/GAPS/schedule", {
      method: "PUT",
      auth: false,
      headers: viewer,
      json: { cron: "0 1 * * *" },
    });
    expect(res.status).toBe(403);
  });
});

describe("GET /api/scheduler/status", () => {
  it("reports the dispatcher as it is: the last tick, and whether ticks arrive", async () => {
    const never = (await api("/api/scheduler/status")).body.data;
    expect(never).toMatchObject({ scheduler_enabled: false, tick_status: "never_ticked", last_tick_at: null });
    await dispatch(ctx, new Date());
    const status = (await api("/api/scheduler/status")).body.data;
    expect(status).toMatchObject({
      scheduler_enabled: true,
      tick_status: "ticking",
      trigger: expect.stringContaining(TICK_CRON),
      total_tasks: TASK_NAMES.length,
    });
    expect(status.unavailable_tasks).toEqual(expect.arrayContaining(["QUEUE", "ACQUIRE", "LIBRARY_SYNC"]));
    expect(status.unavailable_tasks).not.toContain("CATALOGUE");
    expect(status.unavailable_tasks).not.toContain("GAPS");
  });
});
