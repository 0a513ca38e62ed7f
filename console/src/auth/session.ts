/**
 * The signed-in principal's bearer token lives in sessionStorage only: it dies with the tab, is
 * never put in a URL (so never in history, a Referer or a server log), and is never logged.
 */
const KEY = 'gatehouse.token';

/** The token of this tab's session, if signed in. */
export function storedToken(): string | undefined {
  try {
    return sessionStorage.getItem(KEY) ?? undefined;
  } catch {
    return undefined; // storage disabled: behave as signed out
  }
}

/** Keeps the token for this tab (sign-in). */
export function storeToken(token: string): void {
  sessionStorage.setItem(KEY, token);
}

/** Forgets the token (sign-out, or the server refused it). */
export function clearToken(): void {
  sessionStorage.removeItem(KEY);
}
