// The schedule: each task's cron, next run and last result; admins may pause, resume, run now
// and change the cron.

import { api, canAdmin } from "../api.js";
import { badge, errorNotice, fill, h, notice, runAction, table, time } from "../dom.js";
import { startedBy } from "./overview.js";

export async function scheduleView(main) {
  const list = h("div", {});
  const output = h("div", { "aria-live": "polite" });
  const load = async () => {
    try {
      fill(list, tasksTable(await api("GET", "/api/scheduler/tasks"), output, load));
    } catch (error) {
      fill(list, errorNotice(error, "The schedule could not be loaded"));
    }
  };
  fill(
    main,
    h("h1", {}, "Schedule"),
    h(
      "section",
      { class: "card", "aria-labelledby": "sch-tasks" },
      h("h2", { id: "sch-tasks" }, "Tasks"),
      canAdmin()
        ? null
        : notice("info", h("p", {}, "Pausing, resuming and running tasks needs the admin role; you can see everything here.")),
      output,
      list,
    ),
  );
  await load();
  main.dataset.ready = "schedule";
}

function tasksTable(data, output, reload) {
  const rows = data.tasks.map((task) => {
    const last = task.last_run;
    return h(
      "tr",
      { "data-task": task.task_name },
      h("th", { scope: "row" }, task.task_name, h("div", { class: "muted" }, task.description ?? "")),
      h(
        "td",
        {},
        h("code", {}, task.cron),
        task.available === false ? h("div", { class: "muted" }, task.unavailable_reason ?? "needs an outside service") : null,
      ),
      h("td", {}, task.paused ? badge("paused") : time(task.next_run_time)),
      h(
        "td",
        {},
        last ? badge(last.status) : badge("never", "never run"),
        last
          ? h(
              "div",
              { class: "muted" },
              time(last.actual_end ?? last.actual_start),
              ` · ${startedBy(last)}`,
              last.error_message ? ` · ${last.error_message}` : "",
            )
          : null,
      ),
      canAdmin() ? h("td", {}, taskActions(task, output, reload)) : null,
    );
  });
  return table(null, ["Task", "Cron (UTC)", "Next run", "Last result", ...(canAdmin() ? ["Actions"] : [])], rows);
}

function taskActions(task, output, reload) {
  const name = task.task_name;
  const run = h("button", { type: "button", "aria-label": `Run ${name} now` }, "Run now");
  run.addEventListener("click", async () => {
    const r = await runAction(
      run,
      output,
      `${name} run`,
      () => api("POST", `/api/scheduler/trigger/${name}`, {}),
      (r) =>
        `${r.status}; ${r.items_processed ?? 0} processed, ${r.items_failed ?? 0} failed${r.error_message ? ` · ${r.error_message}` : ""}.`,
    );
    if (r) await reload();
  });
  const toggle = h(
    "button",
    { type: "button", class: "secondary", "aria-label": `${task.paused ? "Resume" : "Pause"} ${name}` },
    task.paused ? "Resume" : "Pause",
  );
  toggle.addEventListener("click", async () => {
    const verb = task.paused ? "resume" : "pause";
    const r = await runAction(
      toggle,
      output,
      `${name} ${verb}`,
      () => api("PUT", `/api/scheduler/task/${name}/${verb}`, {}),
      (r) => r.message ?? `${verb}d.`,
    );
    if (r) await reload();
  });
  const edit = h("button", { type: "button", class: "secondary", "aria-label": `Change the cron of ${name}` }, "Change cron");
  edit.addEventListener("click", () => {
    const input = h("input", { value: task.cron, "aria-label": `New cron for ${name}`, size: 14 });
    const save = h("button", { type: "button" }, "Save");
    save.addEventListener("click", async () => {
      const r = await runAction(
        save,
        output,
        `${name} schedule`,
        () => api("PUT", `/api/scheduler/task/${name}/schedule`, { cron: input.value.trim() }),
        () => `now runs at ${input.value.trim()} (UTC).`,
      );
      if (r) await reload();
    });
    edit.replaceWith(h("span", { class: "row" }, input, save));
    input.focus();
  });
  return h("div", { class: "actions" }, run, toggle, edit);
}
