import { ApolloServer, type ApolloServerPlugin } from '@apollo/server';
import { ApolloServerPluginCacheControlDisabled, ApolloServerPluginInlineTraceDisabled, ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { expressMiddleware } from '@as-integrations/express5';
import express, { type ErrorRequestHandler, type RequestHandler } from 'express';
import { GraphQLError } from 'graphql';
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { bearerToken, type TokenDirectory } from '../auth/tokens.js';
import type { GatehouseServices, GraphQLContext } from '../context.js';
import { maskError, unauthenticated } from '../errors.js';
import { WrittenPosition } from '../readers/consistency.js';
import { gatehouseSchema } from '../schema.js';
import { checkCost, defaultLimits, type Limits, limitRules } from './limits.js';
import { attachWebSocket } from './websocket.js';

/** Where the server reports: a pino logger fits. */
export interface ServerLog {
  /** Optional: a log without it drops debug lines (the per-operation line of a successful request). */
  debug?(object: object, message?: string): void;
  info(object: object, message?: string): void;
  warn(object: object, message?: string): void;
  error(object: object, message?: string): void;
}

export interface GraphqlServerOptions {
  readonly services: GatehouseServices;
  readonly tokens: TokenDirectory;
  readonly limits?: Partial<Limits>;
  readonly log: ServerLog;
  /** GET /metrics: the Prometheus text and its content type. */
  readonly metrics?: () => Promise<{ contentType: string; body: string }>;
  /** GET /healthz: 200 when ok, 503 otherwise. */
  readonly health?: () => Promise<{ ok: boolean } & Record<string, unknown>>;
  /** Called once per GraphQL request over HTTP with the operation and its outcome. */
  readonly onOperation?: (info: { operation: string; kind: string; durationMs: number; errorCodes: string[] }) => void;
  /** Idle keep-alive and request-headers timeouts; default {@link defaultHttpTimeouts}. */
  readonly http?: { readonly keepAliveTimeoutMs?: number; readonly headersTimeoutMs?: number };
  /** Other front doors on the same port (e.g. `/mcp`); `close` runs before the HTTP drain so long requests end. */
  readonly routes?: ReadonlyArray<{ path: string; handler: RequestHandler[]; close?: () => Promise<void> }>;
  /** The operator console's handlers (static assets and its page), mounted after the API. */
  readonly console?: RequestHandler[];
}

/**
 * Node's 5 s keep-alive default is below the idle timeout of common proxies (60 s): a proxy would
 * reuse a socket the server had just closed and answer 502. Headers must outlast keep-alive.
 */
export const defaultHttpTimeouts = { keepAliveTimeoutMs: 65_000, headersTimeoutMs: 66_000 } as const;

/** A started Gatehouse API: /graphql over HTTP and WebSocket, /healthz, /metrics, on one port. */
export interface GraphqlServer {
  readonly httpServer: HttpServer;
  readonly port: number;
  /** Open graphql-ws sockets. */
  connections(): number;
  /** Stops taking requests, lets those in flight finish, closes every WebSocket. */
  close(): Promise<void>;
}

/** Builds and starts the API on `port` (0: any free port) of `host`. */
export async function startGraphqlServer(options: GraphqlServerOptions, port: number, host?: string): Promise<GraphqlServer> {
  const limits = { ...defaultLimits, ...options.limits };
  const { services, tokens, log } = options;
  const schema = await gatehouseSchema();
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', false);
  const httpServer = createServer(app);
  httpServer.keepAliveTimeout = options.http?.keepAliveTimeoutMs ?? defaultHttpTimeouts.keepAliveTimeoutMs;
  httpServer.headersTimeout = options.http?.headersTimeoutMs ?? Math.max(defaultHttpTimeouts.headersTimeoutMs, httpServer.keepAliveTimeout + 1_000);
  const onInternalError = (error: unknown) => log.error({ err: error }, 'internal error (masked in the response)');
  const ws = attachWebSocket({ httpServer, schema, services, tokens, limits, onInternalError });

  const apollo = new ApolloServer<GraphQLContext>({
    schema,
    csrfPrevention: true,
    introspection: true,
    includeStacktraceInErrorResponses: false,
    hideSchemaDetailsFromClientErrors: true,
    allowBatchedHttpRequests: false,
    persistedQueries: false,
    // Apollo's own SIGTERM/SIGINT handlers (on unless NODE_ENV=test) stop it and re-send the signal,
    // which cut our graceful stop short; the composition root owns shutdown (onShutdownSignals).
    stopOnTerminationSignals: false,
    parseOptions: { maxTokens: limits.maxTokens },
    validationRules: limitRules(limits),
    formatError: (formatted, error) => maskError(formatted, error, onInternalError),
    plugins: [
      ApolloServerPluginDrainHttpServer({ httpServer }),
      // Neither is used (no cache hints, not a federated subgraph); cache control would otherwise
      // hook every field of every operation.
      ApolloServerPluginCacheControlDisabled(),
      ApolloServerPluginInlineTraceDisabled(),
      // The console is our browser client; Apollo's landing page would load scripts from Apollo's CDN
      // on our origin, with none of the console's CSP or framing headers. Introspection stays on.
      ApolloServerPluginLandingPageDisabled(),
      subscriptionsOverWebSocketOnly(),
      costPlugin(limits.maxCost),
      observePlugin(options),
      consistencyTokenPlugin(),
    ],
  });
  await apollo.start();

  app.get('/healthz', asyncHandler(async (_req, res) => {
    const health = (await options.health?.()) ?? { ok: true };
    res.status(health.ok ? 200 : 503).json(health);
  }));
  app.get('/metrics', asyncHandler(async (_req, res) => {
    if (!options.metrics) return void res.status(404).json({ error: 'no metrics' });
    const { contentType, body } = await options.metrics();
    res.type(contentType).send(body);
  }));
  app.use(
    '/graphql',
    express.json({ limit: limits.maxBodyBytes, strict: true }),
    expressMiddleware(apollo, {
      context: async ({ req }) => {
        const token = bearerToken(req.headers.authorization);
        const principal = token ? tokens.resolve(token) : undefined;
        if (!principal) {
          // Refused before any operation runs, so no operation line follows: say so at info (never the token).
          log.info({ reason: token ? 'unknown token' : 'no token', ip: req.ip }, 'graphql refused');
          throw unauthenticated();
        }
        return { principal, services, written: new WrittenPosition((x, y) => services.store.comparePositions(x, y)) };
      },
    }),
  );
  for (const route of options.routes ?? []) app.use(route.path, ...route.handler);
  // Last before the 404: the console's assets and its page for every address it owns.
  if (options.console) app.use(...options.console);
  app.use((_req, res) => void res.status(404).json({ errors: [{ message: 'not found', extensions: { code: 'NOT_FOUND' } }] }));
  app.use(jsonErrors(log));

  await new Promise<void>((resolve, reject) => {
    httpServer.once('error', reject);
    httpServer.listen(port, host, () => resolve());
  });
  let closing: Promise<void> | undefined;
  return {
    httpServer,
    port: (httpServer.address() as AddressInfo).port,
    connections: ws.connections,
    close: () =>
      (closing ??= (async () => {
        await ws.close();
        await Promise.allSettled((options.routes ?? []).map((r) => r.close?.()));
        await apollo.stop(); // drains HTTP: no new connections, requests in flight finish
      })()),
  };
}

/** Express answers body errors with an HTML page and a stack: answer JSON with a stable code instead. */
function jsonErrors(log: ServerLog): ErrorRequestHandler {
  return (error: { status?: number; statusCode?: number; type?: string }, _req, res, _next) => {
    const status = error.status ?? error.statusCode ?? 500;
    const [code, message] =
      status === 413
        ? ['PAYLOAD_TOO_LARGE', 'the request body is too large']
        : status >= 400 && status < 500
          ? ['BAD_REQUEST', error.type === 'entity.parse.failed' ? 'the request body is not valid JSON' : 'bad request']
          : ['INTERNAL_SERVER_ERROR', 'Internal server error'];
    if (status >= 500) log.error({ err: error }, 'request failed');
    if (res.headersSent) return;
    res.status(status >= 400 && status < 600 ? status : 500).json({ errors: [{ message, extensions: { code } }] });
  };
}

function asyncHandler(handler: (req: express.Request, res: express.Response) => Promise<void>): RequestHandler {
  return (req, res, next) => void handler(req, res).catch(next);
}

/**
 * A subscription sent over HTTP would be executed like a query, with no event to resolve: refuse
 * it as a bad request (400) that says where subscriptions are served, before anything runs.
 */
function subscriptionsOverWebSocketOnly(): ApolloServerPlugin<GraphQLContext> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ operation }) {
          if (operation?.operation !== 'subscription') return;
          throw new GraphQLError('subscriptions are served over graphql-ws (a WebSocket to this same URL), not over HTTP', {
            extensions: { code: 'BAD_REQUEST', http: { status: 400 } },
          });
        },
      };
    },
  };
}

/** Refuses operations over the cost limit before they execute (HTTP 400, QUERY_TOO_COMPLEX). */
function costPlugin(maxCost: number): ApolloServerPlugin<GraphQLContext> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ request, document, schema }) {
          checkCost(schema, document, request.variables, request.operationName ?? undefined, maxCost);
        },
      };
    },
  };
}

/** Logs each operation with its duration and error codes; feeds the metrics hook. */
function observePlugin(options: GraphqlServerOptions): ApolloServerPlugin<GraphQLContext> {
  return {
    async requestDidStart() {
      const started = performance.now();
      return {
        async willSendResponse({ operationName, operation, response, contextValue }) {
          const body = response.body;
          const errors = body.kind === 'single' ? (body.singleResult.errors ?? []) : [];
          const errorCodes = errors.map((e) => String(e.extensions?.code ?? 'UNKNOWN'));
          const info = { operation: operationName ?? operation?.name?.value ?? 'anonymous', kind: operation?.operation ?? 'unknown', durationMs: Math.round((performance.now() - started) * 100) / 100, errorCodes };
          options.onOperation?.(info);
          // A success is a debug line: at info, one JSON line per request was ~4 % of the server's
          // CPU, and /metrics counts every operation already. A failure stays an info line.
          if (errorCodes.length > 0) options.log.info({ ...info, principal: contextValue?.principal?.id }, 'graphql');
          else options.log.debug?.({ ...info, principal: contextValue?.principal?.id }, 'graphql');
        },
      };
    },
  };
}

/**
 * Sends a mutation's consistency token as `extensions.consistencyToken`: in an extension rather
 * than a payload field so every appending mutation carries it the same way, and so it still
 * reaches the client when the write was recorded but the answer is an error (READ_MODEL_LAGGING).
 */
function consistencyTokenPlugin(): ApolloServerPlugin<GraphQLContext> {
  return {
    async requestDidStart() {
      return {
        async willSendResponse({ response, contextValue }) {
          const token = contextValue.written?.token;
          if (token === undefined || response.body.kind !== 'single') return;
          response.body.singleResult.extensions = { ...response.body.singleResult.extensions, consistencyToken: token };
        },
      };
    },
  };
}
