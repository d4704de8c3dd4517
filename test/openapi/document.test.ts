import { describe, expect, it } from "vitest";
import { app } from "../../src/app";
import { openApiPath } from "../../src/openapi/document";
import { errorSchema } from "../../src/openapi/schemas";
import { ROUTE_POLICIES } from "../../src/route-policy";
import { call } from "../helpers";

interface Document {
  openapi: string;
  paths: Record<
    string,
    Record<
      string,
      {
        parameters: { name: string; in: string }[];
        requestBody?: unknown;
        security: unknown[];
        "x-rate-limit-tier": string;
        responses: Record<string, unknown>;
      }
    >
  >;
  components: { schemas: Record<string, unknown>; securitySchemes: Record<string, unknown> };
}

async function getDocument(): Promise<Document> {
  const res = await call("/openapi.json");
  expect(res.status).toBe(200);
  return res.json<Document>();
}

describe("GET /openapi.json", () => {
  it("lists every registered route, with its tier and security", async () => {
    const doc = await getDocument();
    expect(doc.openapi).toBe("3.1.0");
    const registered = [...new Set(app.routes.filter((r) => r.method !== "ALL").map((r) => `${r.method} ${r.path}`))];
    expect(registered.length).toBeGreaterThan(80);
    for (const route of registered) {
      const [method, path] = route.split(" ") as [string, string];
      const op = doc.paths[openApiPath(path)]?.[method.toLowerCase()];
      expect(op, route).toBeDefined();
      expect(op!["x-rate-limit-tier"], route).toBe(ROUTE_POLICIES[route]!.tier);
      expect(op!.security.length === 0, route).toBe(ROUTE_POLICIES[route]!.access === "public");
    }
    expect(Object.keys(doc.components.securitySchemes).sort()).toEqual(["ApiKey", "Basic", "Bearer"]);
  });

  it("describes parameters and bodies from the zod schemas that validate them", async () => {
    const doc = await getDocument();
    const create = doc.paths["/api/books"]!.post!;
    expect(create.requestBody).toMatchObject({
      content: {
        "application/json": { schema: { type: "object", required: ["title"], properties: { title: { type: "string", maxLength: 500 } } } },
      },
    });
    const list = doc.paths["/api/books"]!.get!;
    expect(list.parameters.map((p) => p.name)).toEqual(expect.arrayContaining(["limit", "offset", "status", "search"]));
    expect(doc.paths["/api/books/{id}"]!.get!.parameters).toContainEqual(
      expect.objectContaining({ name: "id", in: "path", required: true }),
    );
    expect(doc.paths["/api/books/{id}"]!.get!.responses).toHaveProperty("404");
  });

  it("documents the error shape that every failure really has", async () => {
    const doc = await getDocument();
    expect(doc.components.schemas.Error).toMatchObject({
      type: "object",
      required: expect.arrayContaining(["error", "code", "status_code", "request_id"]),
    });
    for (const res of [
      await call("/api/nothing"),
      await call("/api/books"),
      await call("/api/books", { auth: true, method: "POST", json: {} }),
    ]) {
      expect(errorSchema.safeParse(await res.json()).success).toBe(true);
    }
  });
});

describe("GET /docs", () => {
  it("serves an interactive reference that reads /openapi.json", async () => {
    const res = await call("/docs");
    expect(res.status).toBe(200);
    expect(res.headers.get("Content-Type")).toMatch(/text\/html/);
    expect(await res.text()).toContain('data-url="/openapi.json"');
  });
});

describe("each operation of /openapi.json", () => {
  it("says what it does and documents the shape of its success", async () => {
    const doc = (await (await call("/openapi.json")).json()) as {
      paths: Record<
        string,
        Record<
          string,
          { summary: string; description: string; responses: Record<string, { content?: Record<string, { schema: unknown }> }> }
        >
      >;
    };
    let operations = 0;
    for (const [path, methods] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(methods)) {
        operations++;
        const route = `${method.toUpperCase()} ${path}`;
        expect(op.summary, route).not.toMatch(/^(GET|POST|PUT|DELETE) \//);
        expect(op.description.length, route).toBeGreaterThan(20);
        const successes = Object.entries(op.responses).filter(([status]) => status.startsWith("2"));
        expect(successes.length, route).toBeGreaterThan(0);
        for (const [, response] of successes) expect(Object.values(response.content ?? {})[0]?.schema, route).toBeDefined();
      }
    }
    expect(operations).toBe(new Set(app.routes.filter((r) => r.method !== "ALL").map((r) => `${r.method} ${r.path}`)).size);
  });
});
