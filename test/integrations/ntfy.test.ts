import { afterEach, describe, expect, it, vi } from "vitest";
import type { NotifyMessage } from "../../src/integrations/notify";
import { sendNtfy } from "../../src/integrations/ntfy";
import { fakeReceivers, NTFY_TOKEN, NTFY_URL } from "./fake-notify";

afterEach(() => vi.restoreAllMocks());

const message = (title: string): NotifyMessage => ({
  id: "msg_2Zc9",
  type: "download.completed",
  timestamp: "2031-05-01T00:00:00.000Z",
  data: {},
  title,
  text: "Downloaded and imported.",
  priority: 3,
});

describe("ntfy", () => {
  it("sends a long title cut to 250 characters, each one outside printable ASCII as '?', and the text whole", async () => {
    const receivers = fakeReceivers();
    const title = `Download finished: Ænima ${"x".repeat(300)}`;
    expect(await sendNtfy(NTFY_URL, NTFY_TOKEN, message(title))).toEqual({ ok: true, status: 200 });
    const sent = receivers.calls[0]!;
    expect(sent.headers.get("Title")).toBe(`Download finished: ?nima ${"x".repeat(250 - 25)}`);
    expect(sent.headers.get("Tags")).toBe("download_completed");
    expect(sent.body).toBe("Downloaded and imported.");
  });
});
