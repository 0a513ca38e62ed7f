import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';
import { Provider } from 'urql';
import { createGatehouseClient, type Connection, type GatehouseClient } from '../graphql/client';
import { checkToken, type Me } from './me';
import { announceSignOut, clearToken, onSignOutElsewhere, storeToken, storedToken } from './session';

/** A signed-in tab: who, its client, and how to leave. */
export interface Session {
  readonly me: Me;
  readonly client: GatehouseClient;
  readonly connection: Connection;
  /** Whether this principal may call an operation (as `me.operations` lists them). */
  can(operation: string): boolean;
  signOut(): void;
}

const SessionContext = createContext<Session | undefined>(undefined);

/** The current session; only under a signed-in tree. */
export function useSession(): Session {
  const session = useContext(SessionContext);
  if (!session) throw new Error('useSession outside a signed-in tree');
  return session;
}

type State =
  | { kind: 'checking' }
  | { kind: 'signed-out'; message?: string }
  | { kind: 'signed-in'; token: string; me: Me };

/**
 * Holds the session: re-checks a stored token at load (so a reload keeps the page, and a token
 * revoked meanwhile signs out with a message), and renders `signIn` until there is one.
 */
export function SessionProvider(props: { children: ReactNode; signIn: (submit: (token: string) => Promise<string | undefined>, message?: string) => ReactNode }) {
  const [state, setState] = useState<State>(() => (storedToken() ? { kind: 'checking' } : { kind: 'signed-out' }));
  const [connection, setConnection] = useState<Connection>('connecting');

  useEffect(() => {
    const token = storedToken();
    if (state.kind !== 'checking' || !token) return;
    let live = true;
    void checkToken(token).then((check) => {
      if (!live) return;
      if (check.ok) setState({ kind: 'signed-in', token, me: check.me });
      else {
        if (check.refused) clearToken();
        setState({ kind: 'signed-out', message: check.message });
      }
    });
    return () => {
      live = false;
    };
  }, [state.kind]);

  const submit = useCallback(async (token: string) => {
    const check = await checkToken(token.trim());
    if (!check.ok) return check.message;
    storeToken(token.trim());
    setState({ kind: 'signed-in', token: token.trim(), me: check.me });
    return undefined;
  }, []);

  // The server stopped knowing the token mid-session: forget it and say so on the sign-in form.
  const refused = useCallback(() => {
    clearToken();
    setState({ kind: 'signed-out', message: 'The server refused your token (it may have been revoked): sign in again.' });
  }, []);
  // Another tab signed out: this one forgets its token too (the token never crosses tabs, only the word).
  useEffect(() => onSignOutElsewhere(() => {
    clearToken();
    setState((s) => (s.kind === 'signed-out' ? s : { kind: 'signed-out', message: 'Signed out in another tab.' }));
  }), []);
  const token = state.kind === 'signed-in' ? state.token : undefined;
  // Made in an effect, not a memo: React may run a memo's function for a render it then throws away,
  // and each client opens a WebSocket at once, so a memo left an orphan socket holding the token
  // open (and retrying) after sign-out. An effect's cleanup closes exactly the one it made.
  const [client, setClient] = useState<GatehouseClient | undefined>(undefined);
  useEffect(() => {
    if (!token) return;
    const made = createGatehouseClient(token, setConnection, refused);
    setClient(made);
    return () => {
      made.dispose();
      setClient(undefined);
    };
  }, [token, refused]);

  const session = useMemo<Session | undefined>(() => {
    if (state.kind !== 'signed-in' || !client) return undefined;
    const operations = new Set(state.me.operations);
    return {
      me: state.me,
      client,
      connection,
      can: (operation) => state.me.isAdmin || operations.has(operation),
      signOut: () => {
        clearToken();
        announceSignOut();
        setState({ kind: 'signed-out', message: 'Signed out.' });
      },
    };
  }, [state, client, connection]);

  // Signed in but its client not made yet (the effect runs after this render): not the sign-in form.
  if (state.kind === 'checking' || (state.kind === 'signed-in' && !session)) return <p className="loading" role="status">Checking your session…</p>;
  if (!session) return <>{props.signIn(submit, state.kind === 'signed-out' ? state.message : undefined)}</>;
  return (
    <SessionContext.Provider value={session}>
      <Provider value={session.client.urql}>{props.children}</Provider>
    </SessionContext.Provider>
  );
}
