// The dashboard's entry: sign-in, sign-out, and a hash router over the views. Each view is a
// function (main element, route parameters) → optional cleanup, called when the view is left.

import { keepSessionFresh, plainWords, session, signIn, signOut, whenSignedOut } from "./api.js";
import { errorNotice, fill, h, notice } from "./dom.js";
import { bookView } from "./views/book.js";
import { downloadsView } from "./views/downloads.js";
import { libraryView } from "./views/library.js";
import { notificationsView } from "./views/notifications.js";
import { overviewView } from "./views/overview.js";
import { requestsView } from "./views/requests.js";
import { scheduleView } from "./views/schedule.js";
import { seriesDetailView, seriesView } from "./views/series.js";

const ROUTES = [
  [/^#\/overview$/, overviewView, "#/overview"],
  [/^#\/library(?:\?.*)?$/, libraryView, "#/library"],
  [/^#\/series$/, seriesView, "#/series"],
  [/^#\/series\/(\d+)$/, seriesDetailView, "#/series"],
  [/^#\/downloads$/, downloadsView, "#/downloads"],
  [/^#\/requests$/, requestsView, "#/requests"],
  [/^#\/schedule$/, scheduleView, "#/schedule"],
  [/^#\/notifications$/, notificationsView, "#/notifications"],
  [/^#\/books\/(\d+)$/, bookView, "#/library"],
];

const main = document.getElementById("main");
const nav = document.getElementById("nav");
const who = document.getElementById("who");
let leaveView = null;
let signedOutReason = null;

function showSignIn(message) {
  nav.hidden = true;
  who.hidden = true;
  let mode = "user";
  const fields = h("div", {});
  const output = h("div", { "aria-live": "polite" });
  const submit = h("button", { type: "submit" }, "Sign in");
  const drawFields = () =>
    fill(
      fields,
      mode === "user"
        ? [
            h("label", {}, h("span", {}, "User name"), h("input", { name: "username", autocomplete: "username", required: true })),
            h(
              "label",
              {},
              h("span", {}, "Password"),
              h("input", { name: "password", type: "password", autocomplete: "current-password", required: true }),
            ),
          ]
        : h(
            "label",
            {},
            h("span", {}, "API key"),
            h("input", { name: "key", type: "password", autocomplete: "off", required: true, spellcheck: "false" }),
          ),
    );
  const choice = (value, label) =>
    h(
      "label",
      { class: "row" },
      h("input", {
        type: "radio",
        name: "mode",
        value,
        checked: mode === value,
        onchange: () => {
          mode = value;
          drawFields();
        },
      }),
      label,
    );
  const form = h(
    "form",
    {
      class: "card signin",
      "aria-labelledby": "signin-title",
      onsubmit: async (event) => {
        event.preventDefault();
        const data = new FormData(form);
        submit.disabled = true;
        fill(output, notice("info", h("p", {}, "Signing in…")));
        try {
          const saved = await signIn(
            mode === "user"
              ? { username: String(data.get("username")), password: String(data.get("password")) }
              : { key: String(data.get("key")) },
          );
          signedOutReason = null;
          startSession(saved);
        } catch (error) {
          fill(output, errorNotice(error, "Sign-in failed"));
        } finally {
          submit.disabled = false;
        }
      },
    },
    h("h1", { id: "signin-title" }, "Sign in"),
    message ? notice("info", h("p", {}, message)) : null,
    h("fieldset", {}, h("legend", {}, "Sign in with"), choice("user", "a user name and password"), choice("key", "an API key")),
    fields,
    h("div", { class: "actions" }, submit),
    output,
  );
  drawFields();
  leave();
  fill(main, form);
  form.querySelector("input[name=username], input[name=key]")?.focus();
}

function startSession(saved) {
  nav.hidden = false;
  who.hidden = false;
  fill(document.getElementById("who-name"), `${saved.name} · ${saved.role}`);
  if (!ROUTES.some(([pattern]) => pattern.test(location.hash))) location.hash = "#/overview";
  else route();
}

function leave() {
  if (leaveView) leaveView();
  leaveView = null;
}

async function route() {
  if (!session()) return showSignIn(signedOutReason);
  const found = ROUTES.find(([pattern]) => pattern.test(location.hash));
  if (!found) {
    location.hash = "#/overview";
    return;
  }
  const [pattern, view, navHash] = found;
  for (const link of nav.querySelectorAll("a")) {
    if (link.getAttribute("href") === navHash) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  leave();
  fill(main, h("p", { class: "muted" }, "Loading…"));
  const params = location.hash.match(pattern).slice(1);
  try {
    leaveView = (await view(main, params)) ?? null;
  } catch (error) {
    fill(main, errorNotice(error, "This view could not be loaded"));
  }
  // Move focus to the new view's heading, so keyboard and screen-reader users land on it.
  const heading = main.querySelector("h1");
  if (heading) {
    heading.setAttribute("tabindex", "-1");
    heading.focus({ preventScroll: true });
  }
  document.body.dataset.view = view.name;
}

whenSignedOut((error) => {
  signedOutReason = plainWords(error);
  signOut().finally(() => showSignIn(signedOutReason));
});

document.getElementById("sign-out").addEventListener("click", async (event) => {
  const button = event.currentTarget;
  button.disabled = true;
  try {
    await signOut();
  } finally {
    button.disabled = false;
    signedOutReason = "You are signed out.";
    history.replaceState(null, "", location.pathname);
    showSignIn(signedOutReason);
  }
});

window.addEventListener("hashchange", route);
// A working day signed in: the token is renewed while this tab is open (README "Security notes").
setInterval(() => keepSessionFresh().catch(() => {}), 60_000);
const current = session();
if (current) startSession(current);
else showSignIn(null);
