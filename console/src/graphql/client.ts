import { Client, fetchExchange, mapExchange, subscriptionExchange } from '@urql/core';
import { createClient as createWsClient, type Client as WsClient } from 'graphql-ws';

/**
 * urql over HTTP for queries and mutations, and over graphql-ws (same origin, /graphql) for
 * subscriptions. urql because it is small, speaks graphql-ws through `subscriptionExchange`, and
 * needs no normalized cache here: every screen reads the API's read models and updates from
 * subscriptions. No cache exchange: what is shown is what the server answered last.
 */
export interface GatehouseClient {
  readonly urql: Client;
  readonly ws: WsClient;
  /** Closes the WebSocket (sign-out). */
  dispose(): void;
}

/** The API's address, on the origin that served the console. */
export function graphqlUrls(origin = window.location.origin): { http: string; ws: string } {
  const http = `${origin}/graphql`;
  return { http, ws: http.replace(/^http/, 'ws') };
}

/** WebSocket status, shown in the header and on live pages ("reconnecting…"). */
export type Connection = 'connecting' | 'connected' | 'reconnecting';

/** The server closes a WebSocket whose token it does not know with 4403 (graphql-ws `Forbidden`). */
export const TOKEN_REFUSED_CLOSE = 4403;

/** Whether a socket close or an HTTP result says the server no longer knows this token. */
export function isTokenRefusal(event: unknown): boolean {
  if (typeof event !== 'object' || event === null) return false;
  const e = event as { code?: unknown; response?: { status?: unknown }; graphQLErrors?: Array<{ extensions?: { code?: unknown } }> };
  return e.code === TOKEN_REFUSED_CLOSE || e.response?.status === 401 || (e.graphQLErrors ?? []).some((g) => g.extensions?.code === 'UNAUTHENTICATED');
}

/**
 * A client that sends `token` as a bearer header (HTTP) and in connectionParams (WebSocket).
 * `onRefused` runs when the server refuses the token mid-session (revoked by a config change and a
 * restart): the socket stops retrying with it, so the caller can sign out and say why.
 */
export function createGatehouseClient(token: string, onConnection?: (c: Connection) => void, onRefused?: () => void): GatehouseClient {
  const urls = graphqlUrls();
  let everConnected = false;
  const ws = createWsClient({
    url: urls.ws,
    // Browsers cannot set headers on a WebSocket: the server reads the token from connectionParams.
    connectionParams: { authorization: `Bearer ${token}` },
    // Connected from sign-in on, not only while a subscription runs: the header's "live" is then true
    // on every page, and the first live update on a page needs no handshake.
    lazy: false,
    keepAlive: 10_000,
    retryAttempts: Number.POSITIVE_INFINITY,
    // Any drop is retried (a restart, a network blip), except a refused token: retrying it forever
    // would leave the page saying "reconnecting…" with a token that will never work again.
    shouldRetry: (event) => !isTokenRefusal(event),
    on: {
      connecting: () => onConnection?.(everConnected ? 'reconnecting' : 'connecting'),
      connected: () => {
        everConnected = true;
        onConnection?.('connected');
      },
      closed: (event) => {
        if (isTokenRefusal(event)) onRefused?.();
        else onConnection?.(everConnected ? 'reconnecting' : 'connecting');
      },
    },
  });
  const urql = new Client({
    url: urls.http,
    requestPolicy: 'network-only',
    // POST only: Apollo's CSRF prevention refuses simple GET requests without a preflight header.
    preferGetMethod: false,
    fetchOptions: () => ({ headers: { authorization: `Bearer ${token}` } }),
    exchanges: [
      mapExchange({ onResult: (result) => void (isTokenRefusal(result.error) && onRefused?.()) }),
      fetchExchange,
      subscriptionExchange({
        forwardSubscription(request) {
          const input = { ...request, query: request.query ?? '' };
          return {
            subscribe(sink) {
              const unsubscribe = ws.subscribe(input, sink);
              return { unsubscribe };
            },
          };
        },
      }),
    ],
  });
  return { urql, ws, dispose: () => void ws.dispose() };
}
