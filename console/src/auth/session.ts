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

// One channel object per tab for both sending and listening: a BroadcastChannel does not hear its
// own messages, so the tab that signs out is not told it was signed out elsewhere.
let channel: BroadcastChannel | undefined;
function sessionChannel(): BroadcastChannel | undefined {
  try {
    return (channel ??= new BroadcastChannel('gatehouse.session'));
  } catch {
    return undefined; // no BroadcastChannel: sign-out stays per tab
  }
}

/** Tells this browser's other console tabs that one signed out (on a shared machine, all should). */
export function announceSignOut(): void {
  sessionChannel()?.postMessage('signed-out');
}

/** Calls `onSignOut` when another tab of this browser signs out; returns how to stop listening. */
export function onSignOutElsewhere(onSignOut: () => void): () => void {
  const c = sessionChannel();
  if (!c) return () => undefined;
  const listener = (event: MessageEvent) => {
    if (event.data === 'signed-out') onSignOut();
  };
  c.addEventListener('message', listener);
  return () => c.removeEventListener('message', listener);
}
