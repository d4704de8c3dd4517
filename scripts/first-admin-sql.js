// The SQL that creates the first admin: pure, so the test suite runs exactly what
// `npm run admin:create` sends to `wrangler d1 execute`.

export const USERNAME = /^[A-Za-z0-9._-]{3,50}$/;
export const EMAIL = /^[^\s@'"\\]{1,64}@[^\s@'"\\]{1,190}\.[^\s@'"\\]{1,60}$/;

/** A SQL string literal. Inputs are validated first; doubling quotes is the second line of defence. */
const literal = (value) => `'${String(value).replaceAll("'", "''")}'`;

/**
 * INSERT of an active admin plus its audit row, as one script (one batch for wrangler).
 * Throws on an invalid username or email; the password arrives already hashed.
 */
export function firstAdminSql({ username, email, passwordHash }) {
  if (!USERNAME.test(username)) throw new Error("username: 3 to 50 of letters, digits, '.', '_' and '-'");
  if (!EMAIL.test(email)) throw new Error("email: not a valid address");
  if (!/^pbkdf2-sha256\$\d+\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/.test(passwordHash)) throw new Error("passwordHash: not a password hash");
  const user = `SELECT id FROM users WHERE username = ${literal(username)}`;
  return [
    `INSERT INTO users (username, email, password_hash, role, is_active) VALUES (${literal(username)}, ${literal(email.toLowerCase())}, ${literal(passwordHash)}, 'admin', 1);`,
    `INSERT INTO audit_logs (user_id, actor, username, action, resource, resource_id, details) VALUES ((${user}), 'cli', ${literal(username)}, 'create', 'user', CAST((${user}) AS TEXT), '{"via":"admin:create","role":"admin"}');`,
  ].join("\n");
}
