import { env } from "cloudflare:workers";
import { and, eq, isNull } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { primaryDatabase } from "../../src/db/client";
import { failedAttempts, schedulerState } from "../../src/db/schema";
import { TASK_NAMES } from "../../src/scheduler/tasks";
import { bearer, createUser, loginAs } from "../fixtures";
import { errorShape } from "../helpers";
import { api, ISO } from "../library";

const db = primaryDatabase(env);

/** A task row as every scheduler route answers it. */
const TASK_ROW = {
  id: expect.any(Number),
  task_name: expect.any(String),
  status: expect.stringMatching(/^(scheduled|running|completed|failed|skipped)$/),
  scheduled_time: ISO,
  actual_start: ISO,
  actual_end: ISO,
  duration_seconds: expect.any(Number),
  items_processed: expect.any(Number),
  items_succeeded: expect.any(Number),
  items_failed: expect.any(Number),
  success_rate: expect.any(Number),
  error_message: null,
  task_metadata: expect.any(Object),
  date_created: ISO,
};

async function data(path: string, options: Parameters<typeof api>[1] = {}) {
  const { status, body } = await api(path, options);
  expect(status, `${path} ${JSON.stringify(body)}`).toBe(200);
  expect(body).toMatchObject({ success: true, error: null });
  return body.data;
}

const trigger = (name: string) => data(`/api/scheduler/trigger/${name}`, { method: "POST" });

describe("POST /api/scheduler/trigger/:name", () => {
  it("runs a database task now and answers its completed row", async () => {
    const row = await trigger("series");
    expect(row).toEqual({ ...TASK_ROW, task_name: "SERIES", status: "completed", success_rate: row.items_processed > 0 ? 100 : 0 });
    expect(row.task_metadata).toMatchObject({ trigger: "manual", triggered_by: "operator", series_recalculated: expect.any(Number) });
  });

  it("records a task whose service is not configured as skipped, with the bindings to set, and tallies nothing", async () => {
    const tally = async () =>
      (
        await db
          .select()
          .from(failedAttempts)
          .where(and(eq(failedAttempts.taskName, "ACQUIRE"), isNull(failedAttempts.itemId), isNull(failedAttempts.itemName)))
          .get()
      )?.attemptCount ?? 0;
    const before = await tally();
    const row = await trigger("acquire");
    expect(row).toMatchObject({
      task_name: "ACQUIRE",
      status: "skipped",
      error_message: "Prowlarr is not configured (set PROWLARR_URL, PROWLARR_API_KEY)",
      items_processed: 0,
    });
    expect(await tally()).toBe(before);
  });

  it("runs the gap analysis as GAPS", async () => {
    const row = await trigger("GAPS");
    expect(row).toMatchObject({
      task_name: "GAPS",
      status: "completed",
      task_metadata: expect.objectContaining({ gap_run_id: expect.any(Number) }),
    });
    const report = await data("/api/gaps/report");
    expect(report.id).toBe(row.task_metadata.gap_run_id);
  });

  it("answers 404 for an unknown task", async () => {
    const { status, body } = await api("/api/scheduler/trigger/NOPE", { method: "POST" });
    expect(status).toBe(404);
    expect(body).toMatchObject(errorShape(404, "not_found"));
    expect(body.detail).toContain("NOPE");
  });
});

describe("POST /api/scheduler/trigger-all", () => {
  it("runs every task that is not paused", async () => {
    await data("/api/scheduler/task/METADATA_FULL/pause", { method: "PUT" });
    try {
      const result = await data("/api/scheduler/trigger-all", { method: "POST" });
      expect(result.skipped_paused).toEqual(["METADATA_FULL"]);
      expect(result.triggered_tasks.map((t: { task_name: string }) => t.task_name)).toEqual(
        TASK_NAMES.filter((n) => n !== "METADATA_FULL"),
      );
      for (const row of result.triggered_tasks) {
        expect(["completed", "skipped"]).toContain(row.status);
        expect(row.task_metadata, row.task_name).toMatchObject({ trigger: "manual", triggered_by: "operator" });
      }
    } finally {
      await data("/api/scheduler/task/METADATA_FULL/resume", { method: "PUT" });
    }
  });
});

describe("pause and resume", () => {
  it("persist in D1 and show in the task list, the status and the upcoming runs", async () => {
    const paused = await data("/api/scheduler/task/cleanup/pause", { method: "PUT" });
    try {
      expect(paused).toEqual({
        task_name: "CLEANUP",
        paused: true,
        paused_at: ISO,
        paused_by: "operator",
        next_run_time: null,
        message: expect.any(String),
      });
      // Pausing again keeps when and by whom.
      expect((await data("/api/scheduler/task/CLEANUP/pause", { method: "PUT" })).paused_at).toBe(paused.paused_at);
      expect(await db.select().from(schedulerState).where(eq(schedulerState.taskName, "CLEANUP")).get()).toMatchObject({
        paused: true,
        pausedBy: "operator",
      });

      const { tasks } = await data("/api/scheduler/tasks");
      expect(tasks.find((t: { task_name: string }) => t.task_name === "CLEANUP")).toMatchObject({
        paused: true,
        next_run_time: null,
        paused_at: paused.paused_at,
      });
      expect((await data("/api/scheduler/status")).paused_tasks).toContain("CLEANUP");
      const upcoming = await data("/api/scheduler/upcoming-tasks?hours=48");
      expect(upcoming.upcoming_tasks.map((t: { task_name: string }) => t.task_name)).not.toContain("CLEANUP");
      expect(upcoming.upcoming_tasks.map((t: { task_name: string }) => t.task_name)).toContain("GAPS");
    } finally {
      const resumed = await data("/api/scheduler/task/CLEANUP/resume", { method: "PUT" });
      expect(resumed).toEqual({ task_name: "CLEANUP", paused: false, next_run_time: ISO, message: "Task CLEANUP resumed" });
    }
    expect(await db.select().from(schedulerState).where(eq(schedulerState.taskName, "CLEANUP")).get()).toMatchObject({
      paused: false,
      pausedAt: null,
    });
    expect((await data("/api/scheduler/status")).paused_tasks).not.toContain("CLEANUP");
  });

  it("answers 404 for an unknown task", async () => {
    expect((await api("/api/scheduler/task/nope/pause", { method: "PUT" })).status).toBe(404);
    expect((await api("/api/scheduler/task/nope/resume", { method: "PUT" })).status).toBe(404);
  });
});

describe("the schedule routes", () => {
  it("status: the dispatcher's trigger and the next run of every task, soonest first", async () => {
    const status = await data("/api/scheduler/status");
    expect(status).toMatchObject({
      scheduler_enabled: expect.any(Boolean),
      running: expect.any(Boolean),
      trigger: expect.stringContaining("*/5 * * * *"),
      timezone: "UTC",
      total_tasks: 11,
      paused_tasks: [],
    });
    expect(status.next_tasks.map((t: { task_name: string }) => t.task_name).sort()).toEqual([...TASK_NAMES].sort());
    const times = status.next_tasks.map((t: { next_run_time: string }) => t.next_run_time);
    expect([...times].sort()).toEqual(times);
    expect(status.next_tasks[0]).toEqual({ task_name: expect.any(String), cron: expect.any(String), next_run_time: ISO });
    expect(Date.parse(times[0])).toBeGreaterThan(Date.now());
  });

  it("tasks: each task's cron, next run, what it needs and its last run", async () => {
    await trigger("AUTHOR");
    const { tasks, total_tasks } = await data("/api/scheduler/tasks");
    expect(total_tasks).toBe(11);
    expect(tasks.map((t: { task_name: string }) => t.task_name)).toEqual([...TASK_NAMES]);
    const author = tasks.find((t: { task_name: string }) => t.task_name === "AUTHOR");
    expect(author).toEqual({
      task_name: "AUTHOR",
      description: expect.any(String),
      cron: "0 3 3 * *",
      default_cron: "0 3 3 * *",
      timezone: "UTC",
      next_run_time: ISO,
      paused: false,
      paused_at: null,
      paused_by: null,
      last_checked_at: null,
      requires: [],
      available: true,
      unavailable_reason: null,
      last_run: { ...TASK_ROW, task_name: "AUTHOR", status: "completed", success_rate: expect.any(Number) },
    });
    expect(new Date(author.next_run_time).getUTCDate()).toBe(3);
    expect(tasks.find((t: { task_name: string }) => t.task_name === "QUEUE")).toMatchObject({
      requires: ["qbittorrent"],
      available: false,
      unavailable_reason: "qBittorrent is not configured (set QB_URL, QB_API_KEY (or QB_USERNAME and QB_PASSWORD))",
    });
  });

  it("task/:name: the schedule and the last ten runs, by any case of the name", async () => {
    for (let i = 0; i < 11; i++) await trigger("METADATA_NEW");
    const detail = await data("/api/scheduler/task/metadata_new");
    expect(detail).toMatchObject({
      task_name: "METADATA_NEW",
      schedule: { cron: "30 4 * * SUN", next_run_time: ISO, paused: false },
      requires: ["google_books"],
      available: false,
    });
    expect(new Date(detail.schedule.next_run_time).getUTCDay()).toBe(0);
    expect(detail.execution_history).toHaveLength(10);
    expect(detail.history_count).toBeGreaterThanOrEqual(11);
    const ids = detail.execution_history.map((r: { id: number }) => r.id);
    expect([...ids].sort((a, b) => b - a)).toEqual(ids);
    expect((await api("/api/scheduler/task/nope")).body).toMatchObject(errorShape(404, "not_found"));
  });

  it("execution-history/:name: the runs, newest first, paged", async () => {
    const first = await trigger("AUTHOR");
    const second = await trigger("AUTHOR");
    const history = await data("/api/scheduler/execution-history/AUTHOR?limit=2");
    expect(history).toMatchObject({ task_name: "AUTHOR", total: expect.any(Number), page_info: { limit: 2, offset: 0, has_more: true } });
    expect(history.executions.map((r: { id: number }) => r.id)).toEqual([second.id, first.id]);
    expect((await api("/api/scheduler/execution-history/AUTHOR?limit=0")).status).toBe(422);
    expect((await api("/api/scheduler/execution-history/nope")).status).toBe(404);
  });

  it("upcoming-tasks: every run within the hours asked (1..168)", async () => {
    const asked = Date.now();
    const day = await data("/api/scheduler/upcoming-tasks");
    expect(day).toMatchObject({ hours: 24, cutoff_time: ISO, total_upcoming: day.upcoming_tasks.length });
    expect(day.upcoming_tasks.filter((t: { task_name: string }) => t.task_name === "GAPS")).toHaveLength(1);
    for (const run of day.upcoming_tasks) {
      expect(run).toEqual({
        task_name: expect.any(String),
        cron: expect.any(String),
        next_run_time: ISO,
        hours_until_run: expect.any(Number),
      });
      // QUEUE runs every 5 minutes: its next run can be seconds away, which rounds to 0.00 hours.
      expect(Date.parse(run.next_run_time)).toBeGreaterThan(asked);
      expect(run.hours_until_run).toBeGreaterThanOrEqual(0);
      expect(run.hours_until_run).toBeLessThanOrEqual(24);
    }
    const week = await data("/api/scheduler/upcoming-tasks?hours=168");
    expect(week.upcoming_tasks.filter((t: { task_name: string }) => t.task_name === "LIBRARY_SYNC")).toHaveLength(7);
    expect(week.upcoming_tasks.filter((t: { task_name: string }) => t.task_name === "AUTHOR_WATCH")).toHaveLength(1);
    for (const hours of ["0", "169", "x"]) expect((await api(`/api/scheduler/upcoming-tasks?hours=${hours}`)).status, hours).toBe(422);
    // Bounded (issue 23): QUEUE's 2,016 runs of a week are cut to per_task (default 24, at most 100), and said so.
    const queue = (answer: { upcoming_tasks: { task_name: string }[] }) => answer.upcoming_tasks.filter((t) => t.task_name === "QUEUE");
    expect(week).toMatchObject({ per_task: 24, truncated: true, total_upcoming: week.upcoming_tasks.length });
    expect(queue(week)).toHaveLength(24);
    expect(week.upcoming_tasks.length).toBeLessThanOrEqual(24 * 9);
    const most = await data("/api/scheduler/upcoming-tasks?hours=168&per_task=100");
    expect(queue(most)).toHaveLength(100);
    const hour = await data("/api/scheduler/upcoming-tasks?hours=1");
    expect(hour).toMatchObject({ truncated: false });
    expect(queue(hour)).toHaveLength(12);
    for (const perTask of ["0", "101"]) expect((await api(`/api/scheduler/upcoming-tasks?per_task=${perTask}`)).status, perTask).toBe(422);
  });

  it("configuration: the schedule, the features that can run, and the gap settings", async () => {
    const config = await data("/api/scheduler/configuration");
    expect(config).toMatchObject({
      timezone: "UTC",
      cron_triggers: ["*/5 * * * *"],
      task_schedules: {
        LIBRARY_SYNC: "0 2 * * *",
        ACQUIRE: "30 1 * * *",
        AUTHOR_WATCH: "0 3 * * SUN",
        QUEUE: "*/5 * * * *",
        CLEANUP: "0 1 * * *",
      },
      enabled_features: {
        gap_analysis: true,
        series_completion: true,
        author_completion: true,
        gap_acquisition: false,
        // The public Audible catalogue is configured by default.
        author_watch: true,
        download_queue: false,
        metadata_correction: false,
      },
      gap_analysis_config: {
        series_gaps: true,
        automatic_acquisition: { enabled: false, reason: expect.stringContaining("Prowlarr is not configured") },
      },
      retention: { history_retention_days: 30 },
    });
    expect(config).not.toHaveProperty("scheduler_enabled");
  });
});

describe("access", () => {
  it("lets viewers read the schedule, and only admins run, pause or resume tasks", async () => {
    const viewer = bearer(await loginAs(await createUser("viewer")));
    const moderator = bearer(await loginAs(await createUser("moderator")));
    const admin = bearer(await loginAs(await createUser("admin")));
    for (const path of ["status", "tasks", "task/GAPS", "execution-history/GAPS", "upcoming-tasks", "configuration"]) {
      expect((await api(`/api/scheduler/${path}`, { auth: false, headers: viewer })).status, path).toBe(200);
    }
    for (const headers of [viewer, moderator]) {
      for (const [method, path] of [
        ["POST", "trigger/SERIES"],
        ["POST", "trigger-all"],
        ["PUT", "task/SERIES/pause"],
        ["PUT", "task/SERIES/resume"],
      ]) {
        const res = await api(`/api/scheduler/${path}`, { method, auth: false, headers });
        expect(res.status, `${method} ${path}`).toBe(403);
        expect(res.body).toMatchObject(errorShape(403, "forbidden"));
      }
    }
    const run = await data("/api/scheduler/trigger/SERIES", { method: "POST", auth: false, headers: admin });
    expect(run.task_metadata.triggered_by).toMatch(/^user:/);
  });
});
