// The database schema: the single source of truth, one file per area. `npm run db:generate`
// (drizzle.config.ts reads this file) turns a change into a migration in drizzle/ (plus its
// hand-written reverse in drizzle/rollback/); `npm test` fails while the two disagree.
// Allowed values are lists beside their tables, not CHECK constraints (changing one would mean
// rebuilding the table in SQLite); the API validates with these lists and the column types carry them.
// Column names are those of the original Python backend, so its data moves over as it is.
export * from "./acquisition";
export * from "./catalogue";
export * from "./identity";
export * from "./library";
export * from "./metadata";
export * from "./notifications";
export * from "./requests";
export * from "./scheduler";
