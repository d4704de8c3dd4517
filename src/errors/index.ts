// The errors the service answers with: codes and statuses (./codes.ts), the error types handlers
// throw (./app-error.ts), what D1 threw (./database.ts), and the rendering (./render.ts).
export * from "./app-error";
export * from "./codes";
export * from "./database";
export * from "./render";
