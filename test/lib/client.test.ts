import { afterEach, describe, expect, it, vi } from "vitest";
import { addressForBudget } from "../../src/lib/client";
import { uniqueIp, withEnv } from "../helpers";

// Who a per-address budget belongs to, and how the request log names the client.

const defaults = withEnv({ RATE_LIMITS: "" });

afterEach(() => vi.restoreAllMocks());

describe("IPv6 clients", () => {
  it("share one public budget per /64 network", async () => {
    const network = `2001:db8:${crypto.getRandomValues(new Uint16Array(1))[0]!.toString(16)}:42`;
    const statuses: number[] = [];
    for (let i = 1; i <= 12; i++) statuses.push((await defaults("/api/info", { ip: `${network}:${i.toString(16)}::${i}` })).status);
    expect(statuses.slice(0, 10).every((s) => s === 200)).toBe(true);
    expect(statuses.slice(10)).toEqual([429, 429]);
    // The next /64 has its own budget.
    expect((await defaults("/api/info", { ip: `${network.replace(/:42$/, ":43")}::1` })).status).toBe(200);
  });

  it("are keyed by the /64 however the address is written; IPv4 stays per address", () => {
    expect(addressForBudget("2001:DB8:0:1:aaaa::1")).toBe("2001:db8:0:1::/64");
    expect(addressForBudget("2001:0db8:0000:0001:ffff:ffff:ffff:ffff")).toBe("2001:db8:0:1::/64");
    expect(addressForBudget("2001:db8::1")).toBe("2001:db8:0:0::/64");
    expect(addressForBudget("::ffff:192.0.2.7")).toBe("192.0.2.7");
    expect(addressForBudget("192.0.2.7")).toBe("192.0.2.7");
    expect(addressForBudget("fe80::1%eth0")).toBe("fe80:0:0:0::/64");
  });
});

describe("addresses spelled differently (issue 23, finding 7)", () => {
  it("have one form each: no spelling gets a budget of its own", () => {
    for (const spelling of ["2001:db8:0:1::7", "[2001:db8:0:1::7]", "2001:DB8:0:1:0:0:0:7", "2001:db8:0:1::0.0.0.7", "2001:db8:0:1::/64"])
      expect(addressForBudget(spelling), spelling).toBe("2001:db8:0:1::/64");
    for (const spelling of [
      "192.0.2.7",
      " 192.0.2.7 ",
      "192.000.002.007",
      "::ffff:192.0.2.7",
      "::ffff:c000:207",
      "0:0:0:0:0:ffff:c000:0207",
    ])
      expect(addressForBudget(spelling), spelling).toBe("192.0.2.7");
    for (const garbage of ["not-an-ip", "1.2.3.256", "2001:db8::1::2", "1:2:3:4:5:6:7:8:9", ""])
      expect(addressForBudget(garbage), garbage).toBe("unknown");
  });

  it("share one public budget through the app", async () => {
    const [a, b] = crypto.getRandomValues(new Uint8Array(2));
    const spellings = [`198.18.${a}.${b}`, `198.018.${String(a).padStart(3, "0")}.${b}`, `::ffff:198.18.${a}.${b}`];
    const statuses: number[] = [];
    for (let i = 0; i < 11; i++) statuses.push((await defaults("/api/info", { ip: spellings[i % 3]! })).status);
    expect(statuses.slice(0, 10).every((s) => s === 200)).toBe(true);
    expect(statuses[10]).toBe(429);
  });
});

describe("the request log's client", () => {
  /** The `client` field of the log line of one request from `ip`, under `env`. */
  async function loggedClient(app: ReturnType<typeof withEnv>, ip: string): Promise<string> {
    const lines: string[] = [];
    const spy = vi.spyOn(console, "log").mockImplementation((line: unknown) => void lines.push(String(line)));
    await app("/api/info", { ip });
    spy.mockRestore();
    return lines.map((line) => JSON.parse(line)).find((entry) => entry.event === "request").client;
  }

  const sha256Hex = async (text: string) =>
    Array.from(new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text))), (b) =>
      b.toString(16).padStart(2, "0"),
    ).join("");

  it("is a keyed hash: not the plain SHA-256 of the address, and different under another secret", async () => {
    const ip = "198.51.100.23";
    const one = await loggedClient(withEnv({ JWT_SECRET: `log-key-one-${"x".repeat(40)}` }), ip);
    const two = await loggedClient(withEnv({ JWT_SECRET: `log-key-two-${"y".repeat(40)}` }), ip);
    expect(one).toMatch(/^[0-9a-f]{16}$/);
    expect(one).not.toBe((await sha256Hex(`client:ip:${ip}`)).slice(0, 16));
    expect(one).not.toBe(two);
    // Stable for one secret, so one client's requests can still be followed.
    expect(await loggedClient(withEnv({ JWT_SECRET: `log-key-one-${"x".repeat(40)}` }), ip)).toBe(one);
  });

  it("names the /64 of an IPv6 client, not each address", async () => {
    const app = withEnv({});
    const ip = uniqueIp();
    const sibling = ip.replace(/::1$/, "::2");
    expect(sibling).not.toBe(ip);
    expect(await loggedClient(app, sibling)).toBe(await loggedClient(app, ip));
  });
});
