import { type ChildProcess, spawn } from "node:child_process";
import { createHmac, randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";

// README "Notifications" shows receiver.mjs, a receiver that verifies the signature. This runs
// that block as the README says (`WEBHOOK_SECRET=whsec_... node receiver.mjs`) and sends it
// requests signed as the Standard Webhooks spec says (the service's own signing is checked against
// the spec in test/routes/notifications.test.ts): a correct signature is taken, a wrong or stale one refused.
const root = path.resolve(import.meta.dirname, "../../..");
const readme = readFileSync(path.join(root, "README.md"), "utf8");
const dir = mkdtempSync(path.join(tmpdir(), "webhook-receiver-"));
let child: ChildProcess | undefined;

const newWebhookSecret = () => `whsec_${randomBytes(32).toString("base64")}`;
/** `v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">` keyed by the secret's bytes. */
async function signature(secret: string, id: string, timestamp: number, body: string): Promise<string> {
  const key = Buffer.from(secret.slice("whsec_".length), "base64");
  return `v1,${createHmac("sha256", key).update(`${id}.${timestamp}.${body}`).digest("base64")}`;
}
afterAll(() => {
  child?.kill();
  rmSync(dir, { recursive: true, force: true });
});

function receiverBlock(): string {
  const start = readme.indexOf("### Notifications");
  expect(start, "README has a section ### Notifications").toBeGreaterThan(-1);
  const from = readme.indexOf("`receiver.mjs`", start);
  expect(from, "the section names receiver.mjs").toBeGreaterThan(-1);
  const match = /```js\n([\s\S]*?)```/.exec(readme.slice(from));
  expect(match, "a ```js block after receiver.mjs").not.toBeNull();
  return match![1] as string;
}

async function started(secret: string, port: number): Promise<void> {
  writeFileSync(path.join(dir, "receiver.mjs"), receiverBlock());
  child = spawn(process.execPath, ["receiver.mjs"], {
    cwd: dir,
    env: { ...process.env, WEBHOOK_SECRET: secret, PORT: String(port) },
    stdio: "pipe",
  });
  for (let i = 0; i < 100; i++) {
    try {
      await fetch(`http://127.0.0.1:${port}/`, { method: "POST", body: "{}" });
      return;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  throw new Error("receiver.mjs did not start");
}

describe("README's webhook receiver", () => {
  it("takes what this service signs, and refuses a wrong secret, a changed body and an old timestamp", async () => {
    const secret = newWebhookSecret();
    const port = 20_000 + Math.floor(Math.random() * 20_000);
    await started(secret, port);
    const body = JSON.stringify({ type: "task.failed", timestamp: new Date().toISOString(), data: { task: "QUEUE" } });
    const post = async (headers: Record<string, string>, text = body) =>
      (
        await fetch(`http://127.0.0.1:${port}/`, {
          method: "POST",
          headers: { "Content-Type": "application/json", ...headers },
          body: text,
        })
      ).status;
    const id = "msg_0123456789abcdef0123456789abcdef";
    const now = Math.floor(Date.now() / 1000);
    const signed = async (s: string, ts: number, text = body) => ({
      "webhook-id": id,
      "webhook-timestamp": String(ts),
      "webhook-signature": await signature(s, id, ts, text),
    });
    expect(await post(await signed(secret, now))).toBe(204);
    expect(await post(await signed(newWebhookSecret(), now))).toBe(401);
    expect(await post(await signed(secret, now), body.replace("QUEUE", "GAPS"))).toBe(401);
    expect(await post(await signed(secret, now - 600))).toBe(401);
    expect(await post({})).toBe(401);
  });
});
