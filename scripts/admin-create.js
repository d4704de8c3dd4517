// Creates an admin user: the way in for the first one.
//
//   npm run admin:create -- --username ada --email ada@example.com              # local database
//   npm run admin:create -- --username ada --email ada@example.com --remote     # deployed (production)
//
// The password is read from a hidden prompt, or from standard input when piped
// (`printf '%s' "$PW" | npm run admin:create -- ...`); never from the command line, where it
// would land in shell history and process lists. Hashing uses the Worker's own code with the
// PASSWORD_SALT pepper: from .dev.vars locally; from the PASSWORD_SALT environment variable with
// --remote (the value you gave `wrangler secret put PASSWORD_SALT`).
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import { parseArgs } from "node:util";
import { hashPassword } from "../src/lib/password.ts";
import { firstAdminSql } from "./first-admin-sql.js";
import { runTool } from "./lib/tool.js";

function fail(message) {
  console.error(`admin:create: ${message}`);
  process.exit(1);
}

const { values } = parseArgs({
  options: {
    username: { type: "string" },
    email: { type: "string" },
    remote: { type: "boolean", default: false },
    env: { type: "string" },
  },
});
if (!values.username || !values.email) fail("usage: npm run admin:create -- --username NAME --email ADDRESS [--remote] [--env NAME]");
const environment = values.env ?? (values.remote ? "production" : undefined);

function devVar(name) {
  if (!existsSync(".dev.vars")) return undefined;
  const line = readFileSync(".dev.vars", "utf8")
    .split("\n")
    .find((l) => l.startsWith(`${name}=`));
  return line?.slice(name.length + 1).trim();
}
const pepper = values.remote ? process.env.PASSWORD_SALT : devVar("PASSWORD_SALT");
if (!pepper) {
  fail(
    values.remote
      ? "set PASSWORD_SALT in the environment to the deployed secret's value"
      : "no PASSWORD_SALT in .dev.vars: run `npm run dev` once, or copy .dev.vars.example",
  );
}

async function readPassword() {
  if (!process.stdin.isTTY) {
    let input = "";
    for await (const chunk of process.stdin) input += chunk;
    return input.replace(/\r?\n$/, "");
  }
  const ask = (prompt) =>
    new Promise((resolve) => {
      const rl = createInterface({ input: process.stdin, output: process.stdout, terminal: true });
      rl._writeToOutput = (text) => rl.output.write(text.startsWith(prompt) ? prompt : "");
      rl.question(prompt, (answer) => {
        rl.close();
        process.stdout.write("\n");
        resolve(answer);
      });
    });
  const first = await ask("Password: ");
  if ((await ask("Repeat password: ")) !== first) fail("the passwords differ");
  return first;
}

const password = await readPassword();
if (password.length < 8 || password.length > 256) fail("the password must be 8 to 256 characters");

let sql;
try {
  sql = firstAdminSql({ username: values.username, email: values.email, passwordHash: await hashPassword(password, pepper) });
} catch (error) {
  fail(error.message);
}

const dir = mkdtempSync(path.join(tmpdir(), "admin-create-"));
const file = path.join(dir, "admin.sql");
writeFileSync(file, sql);
try {
  const args = [
    "d1",
    "execute",
    "DB",
    values.remote ? "--remote" : "--local",
    "--file",
    file,
    ...(environment ? ["--env", environment] : []),
  ];
  const result = runTool("wrangler", args, { stdio: ["ignore", "ignore", "inherit"], env: { CI: "true" } });
  if (result.status !== 0) throw new Error("wrangler failed");
  console.log(`admin:create: created admin '${values.username}' in the ${values.remote ? "remote" : "local"} database`);
} catch {
  fail("wrangler could not run the insert (a user with that name or email may exist; is the database migrated?)");
} finally {
  rmSync(dir, { recursive: true, force: true });
}
