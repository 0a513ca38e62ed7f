import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** The file the generated admin token lives in, next to the data. */
export const ADMIN_TOKEN_FILE = 'admin-token';

/**
 * The admin token of a server started without configured tokens: generated at the first start
 * (32 random bytes, base64url), written with mode 0600 and returned with `created: true` so the
 * caller prints it once; later starts read it back.
 */
export function ensureAdminToken(dataDir: string): { token: string; path: string; created: boolean } {
  const path = join(dataDir, ADMIN_TOKEN_FILE);
  if (existsSync(path)) {
    // Someone loosened the file: tighten it again rather than serve with a readable secret.
    if ((statSync(path).mode & 0o077) !== 0) chmodSync(path, 0o600);
    const token = readFileSync(path, 'utf8').trim();
    if (token.length >= 16) return { token, path, created: false };
  }
  const token = `gh_${randomBytes(32).toString('base64url')}`;
  writeFileSync(path, `${token}\n`, { mode: 0o600, flag: 'w' });
  chmodSync(path, 0o600); // the umask may have narrowed or the file may have existed
  return { token, path, created: true };
}
