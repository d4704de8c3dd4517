import { defineConfig } from "drizzle-kit";

// drizzle-kit owns drizzle/: `npm run db:generate` writes a migration from src/db/schema/,
// wrangler applies it (`npm run db:migrate:local|remote`), tests apply the same files.
export default defineConfig({
  dialect: "sqlite",
  schema: "./src/db/schema/index.ts",
  out: "./drizzle",
});
