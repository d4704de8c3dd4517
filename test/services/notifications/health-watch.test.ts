import { env } from "cloudflare:workers";
import { eq } from "drizzle-orm";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { getConfig } from "../../../src/config";
import { primaryDatabase } from "../../../src/db/client";
import { healthStates, notificationDeliveries, notificationEndpoints, schedulerState } from "../../../src/db/schema";
import { dispatch } from "../../../src/scheduler/dispatch";
import { TASK_NAMES } from "../../../src/scheduler/tasks";
import { createEndpoint } from "../../../src/services/notifications";
import { probeComponents, watchHealth } from "../../../src/services/notifications/health-watch";
import { NTFY_TOKEN, NTFY_URL } from "../../integrations/fake-notify";
import { fakeUpstream } from "../../integrations/fake-upstream";

const db = primaryDatabase(env);
const actor = { identity: undefined, ip: "192.0.2.1", userAgent: null };
const down = () => Promise.reject(new Error("Durable Object reset because its code was updated"));
/** A rate limiter whose Durable Object does not answer, as in test/robustness/faults.test.ts. */
const brokenLimiter = {
  idFromName: (name: string) => env.RATE_LIMITER.idFromName(name),
  get: () => ({ check: down, peek: down, clear: down }),
};

let endpointId: number;
beforeEach(async () => {
  await db.delete(notificationEndpoints);
  await db.delete(healthStates);
  endpointId = (
    await createEndpoint(db, getConfig(env), actor, {
      name: "ops",
      kind: "ntfy",
      url: NTFY_URL,
      token: NTFY_TOKEN,
      events: ["limiter.degraded", "database.degraded"],
    })
  ).id;
});
afterEach(() => vi.restoreAllMocks());

const told = async () =>
  (await db.select().from(notificationDeliveries).where(eq(notificationDeliveries.endpointId, endpointId))).map((d) => ({
    event: d.event,
    data: d.payload.data,
  }));
const limiter = (degraded: boolean) => ({
  name: "limiter" as const,
  degraded,
  detail: degraded ? "The rate limiter did not answer" : null,
});
const database = { name: "database" as const, degraded: false, detail: null };

describe("limiter.degraded and database.degraded", () => {
  it("are told once per change of state: degraded, then recovered, however many probes see each", async () => {
    const t0 = new Date("2034-01-01T00:05:00.000Z");
    expect(await watchHealth(db, [limiter(false), database], t0)).toEqual([]);
    expect(await watchHealth(db, [limiter(true), database], new Date("2034-01-01T00:10:00.000Z"))).toHaveLength(1);
    expect(await watchHealth(db, [limiter(true), database], new Date("2034-01-01T00:15:00.000Z"))).toEqual([]);
    expect(await watchHealth(db, [limiter(false), database], new Date("2034-01-01T00:20:00.000Z"))).toHaveLength(1);
    expect(await watchHealth(db, [limiter(false), database], new Date("2034-01-01T00:25:00.000Z"))).toEqual([]);
    expect(await told()).toEqual([
      { event: "limiter.degraded", data: { state: "degraded", detail: "The rate limiter did not answer" } },
      { event: "limiter.degraded", data: { state: "recovered", degraded_since: "2034-01-01T00:10:00.000Z" } },
    ]);
  });

  it("a slow or failing database is degraded", async () => {
    await watchHealth(
      db,
      [limiter(false), { name: "database", degraded: true, detail: "SELECT 1 took 1500 ms" }],
      new Date("2034-02-01T00:05:00.000Z"),
    );
    expect(await told()).toEqual([{ event: "database.degraded", data: { state: "degraded", detail: "SELECT 1 took 1500 ms" } }]);
  });

  it("the probes: /health's limiter probe and SELECT 1 on the tick's own database", async () => {
    const healthy = await probeComponents(db, env, getConfig(env));
    expect(healthy).toEqual([
      { name: "limiter", degraded: false, detail: null },
      { name: "database", degraded: false, detail: null },
    ]);
    const broken = { ...env, RATE_LIMITER: brokenLimiter } as unknown as Env;
    expect((await probeComponents(db, broken, getConfig(broken)))[0]).toMatchObject({ name: "limiter", degraded: true });
  });

  it("the dispatcher probes at :05 (and tells the endpoint in the same tick), not at :00 or :30", async () => {
    const receivers = fakeUpstream(
      () =>
        new Response(JSON.stringify({ id: "x", event: "message", topic: "t", time: 1 }), {
          status: 200,
          headers: { "Content-Type": "application/json" },
        }),
    );
    // Every task paused: only the dispatcher's own steps run.
    for (const taskName of TASK_NAMES)
      await db
        .insert(schedulerState)
        .values({ taskName, paused: true })
        .onConflictDoUpdate({ target: schedulerState.taskName, set: { paused: true } });
    const broken = { ...env, RATE_LIMITER: brokenLimiter } as unknown as Env;
    const ctx = { db, env: broken, config: getConfig(broken) };
    await dispatch(ctx, new Date("2034-03-01T01:00:00.000Z"));
    expect(await told()).toEqual([]);
    const result = await dispatch(ctx, new Date("2034-03-01T01:05:00.000Z"));
    expect(await told()).toEqual([{ event: "limiter.degraded", data: { state: "degraded", detail: expect.any(String) } }]);
    expect(result.notifications).toMatchObject({ sent: 1, delivered: 1 });
    expect(receivers.calls.map((c) => [c.url.host, c.headers.get("Title")])).toEqual([["ntfy.example.test", "Rate limiter degraded"]]);
    await dispatch(ctx, new Date("2034-03-01T01:10:00.000Z"));
    expect(await told()).toHaveLength(1);
    await db.update(schedulerState).set({ paused: false });
  });
});
