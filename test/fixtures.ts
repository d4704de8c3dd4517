import { expect } from "vitest";
import { call } from "./helpers";

/** A title no other test uses, so tests never see each other's rows. */
export function unique(prefix = "t"): string {
  return `${prefix}-${crypto.randomUUID().slice(0, 8)}`;
}

async function create<T>(path: string, json: Record<string, unknown>): Promise<T> {
  const res = await call(path, { method: "POST", auth: true, json });
  const body = await res.json<{ data: T }>();
  expect(res.status, `POST ${path} ${JSON.stringify(body)}`).toBe(201);
  return body.data;
}

/** Creates a book through the API; answers the create route's `data`. */
export function createBook(fields: Record<string, unknown> = {}) {
  return create<{ book_id: number } & Record<string, unknown>>("/api/books", { title: unique("book"), ...fields });
}

export function createSeries(fields: Record<string, unknown> = {}) {
  return create<{ series_id: number } & Record<string, unknown>>("/api/series", { name: unique("series"), ...fields });
}

export function createAuthor(fields: Record<string, unknown> = {}) {
  return create<{ author_id: number } & Record<string, unknown>>("/api/authors", { name: unique("author"), ...fields });
}

export interface TestUser {
  id: number;
  username: string;
  password: string;
  role: "admin" | "moderator" | "viewer";
}

/** Creates a user through the admin API with the operator key. */
export async function createUser(role: TestUser["role"] = "viewer"): Promise<TestUser> {
  const username = unique("user").replace(/-/g, "_");
  const password = `pw-${crypto.randomUUID()}`;
  const { user } = await create<{ user: { id: number } }>("/api/admin/users", {
    username,
    email: `${username}@example.test`,
    password,
    role,
  });
  return { id: user.id, username, password, role };
}

/** Logs in and answers the bearer token. */
export async function loginAs(user: Pick<TestUser, "username" | "password">): Promise<string> {
  const res = await call("/api/admin/login", { method: "POST", json: { username: user.username, password: user.password } });
  const body = await res.json<{ data: { access_token: string } }>();
  expect(res.status, JSON.stringify(body)).toBe(200);
  return body.data.access_token;
}

export const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });
