// The API reference (/docs) in a real browser: headless Chromium against `wrangler dev`, which
// serves the viewer from Workers static assets (wrangler.toml's [build] copies it from the pinned
// npm package). The page must render the document's title and operations, with no request leaving
// the Worker and no script error or Content-Security-Policy violation.
import assert from "node:assert/strict";
import { existsSync, mkdirSync } from "node:fs";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { chromium } from "playwright-core";
import { root } from "../../scripts/lib/tool.js";
import { startWorker } from "./worker.js";

const SHOTS = path.join(root, "test-results", "docs");
const CHROMIUM = process.env.CHROMIUM_PATH ?? ["/usr/bin/chromium", "/usr/bin/chromium-browser"].find((p) => existsSync(p));

let worker, browser, page;
const problems = [];
const foreignRequests = [];

describe("the API reference in Chromium", { timeout: 180_000 }, () => {
  before(async () => {
    assert.ok(CHROMIUM, "Chromium is not installed: apt-get install -y chromium (or set CHROMIUM_PATH)");
    mkdirSync(SHOTS, { recursive: true });
    worker = await startWorker();
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"] });
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.setDefaultTimeout(20_000);
    page.on("console", (message) => message.type() === "error" && problems.push(message.text()));
    page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
    page.on("request", (request) => {
      if (!request.url().startsWith(worker.base) && !request.url().startsWith("data:")) foreignRequests.push(request.url());
    });
    // A CSP violation is reported to the page as an event, besides the console line.
    await page.addInitScript(() =>
      document.addEventListener("securitypolicyviolation", (e) => console.error(`CSP violation: ${e.violatedDirective} ${e.blockedURI}`)),
    );
  });

  after(async () => {
    await browser?.close();
    await worker?.stop();
  });

  it("renders the API's title and operations from /openapi.json, under its own strict policy", async () => {
    const document = await (await fetch(`${worker.base}/openapi.json`)).json();
    const response = await page.goto(`${worker.base}/docs`);
    assert.match(response.headers()["content-security-policy"], /default-src 'none'; script-src 'self'; style-src 'self'/);
    await page.locator(".info .title", { hasText: document.info.title }).waitFor();
    await page.locator(".opblock-summary-path", { hasText: "/api/books/search" }).first().waitFor();
    await page.screenshot({ path: path.join(SHOTS, "reference.png") });
  });

  it("tries an operation out against this Worker and shows the answer", async () => {
    await page.locator(".opblock-summary-path", { hasText: "/health/live" }).first().click();
    await page.getByRole("button", { name: "Try it out" }).first().click();
    await page.getByRole("button", { name: "Execute" }).first().click();
    await page.locator(".live-responses-table .response-col_status", { hasText: "200" }).waitFor();
    await page.locator(".live-responses-table", { hasText: '"status": "alive"' }).waitFor();
    await page.screenshot({ path: path.join(SHOTS, "try-it-out.png") });
  });

  it("loaded nothing from outside the Worker, with no script error or policy violation", () => {
    assert.deepEqual(foreignRequests, []);
    assert.deepEqual(problems, []);
  });
});
