import { type DocumentNode, type ExecutionArgs, type ExecutionResult, type GraphQLError, type GraphQLSchema, GraphQLError as GqlError, getOperationAST, parse, specifiedRules, validate } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import type { Server as HttpServer } from 'node:http';
import { WebSocketServer, type WebSocket } from 'ws';
import { bearerToken, type TokenDirectory } from '../auth/tokens.js';
import type { AuthPrincipal, GatehouseServices, GraphQLContext } from '../context.js';
import { gqlError, maskError } from '../errors.js';
import { checkCost, type Limits, limitRules } from './limits.js';
import { sharedSubscribe, type SubscriptionSink } from './shared-subscribe.js';

interface Connection {
  readonly principal: AuthPrincipal;
  readonly active: Set<string>;
}

export interface WebSocketOptions {
  readonly httpServer: HttpServer;
  readonly schema: GraphQLSchema;
  readonly services: GatehouseServices;
  readonly tokens: TokenDirectory;
  readonly limits: Limits;
  readonly onInternalError: (error: unknown) => void;
}

/**
 * graphql-ws on /graphql of the same HTTP server. The token travels in connectionParams
 * (`{ authorization: "Bearer …" }` or `{ token }`: browsers cannot set WebSocket headers); a
 * missing or unknown one closes the socket with 4403. Every operation goes through the same
 * token, depth, alias, directive and cost limits as HTTP, and every error is masked.
 */
export function attachWebSocket(options: WebSocketOptions): { close(): Promise<void>; connections(): number } {
  const { schema, services, tokens, limits } = options;
  const wss = new WebSocketServer({ server: options.httpServer, path: '/graphql', maxPayload: limits.maxMessageBytes });
  const connections = new WeakMap<WebSocket, Connection>();
  const rules = [...specifiedRules, ...limitRules(limits)];
  const mask = (errors: readonly GraphQLError[]) => errors.map((e) => maskError(e.toJSON(), e, options.onInternalError));
  // By context (one per subscription), not by document: a cached document serves many subscriptions.
  const operations = new WeakMap<object, string>();
  const sinks = new WeakMap<object, SubscriptionSink>();
  const present = (result: ExecutionResult) => (result.errors ? { ...result, errors: mask(result.errors) } : result);
  const documents = new ValidDocuments();

  const disposable = useServer<Record<string, unknown> | undefined, { socket: WebSocket }>(
    {
      schema,
      subscribe: sharedSubscribe({ operations, sinks, present }),
      connectionInitWaitTimeout: 5_000,
      // Whatever NODE_ENV says: an error that escapes a handler closes the socket with a generic
      // reason, never with its own message (which may name internals).
      isProd: true,
      onConnect: (ctx) => {
        const params = ctx.connectionParams ?? {};
        const token = bearerToken(params.authorization ?? params.Authorization) ?? (typeof params.token === 'string' ? params.token : undefined);
        const principal = token ? tokens.resolve(token) : undefined;
        if (!principal) return false;
        connections.set(ctx.extra.socket, { principal, active: new Set() });
        return true;
      },
      onSubscribe: (ctx, id, payload): ExecutionArgs | readonly GraphQLError[] => {
        const connection = connections.get(ctx.extra.socket);
        if (!connection) return [gqlError('UNAUTHENTICATED', 'a valid bearer token is required')];
        if (connection.active.size >= limits.maxSubscriptionsPerConnection) {
          return [gqlError('TOO_MANY_SUBSCRIPTIONS', `at most ${limits.maxSubscriptionsPerConnection} operations per connection`)];
        }
        let document = documents.get(payload.query);
        if (!document) {
          try {
            document = parse(payload.query, { maxTokens: limits.maxTokens });
          } catch (error) {
            return [new GqlError(error instanceof GqlError ? error.message : 'syntax error', { extensions: { code: 'GRAPHQL_PARSE_FAILED' } })];
          }
          const invalid = validate(schema, document, rules);
          if (invalid.length > 0) return invalid.map((e) => new GqlError(e.message, { nodes: e.nodes, extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } }));
          documents.set(payload.query, document);
        }
        if (!getOperationAST(document, payload.operationName)) {
          return [new GqlError('unknown operation', { extensions: { code: 'OPERATION_RESOLUTION_FAILURE' } })];
        }
        try {
          checkCost(schema, document, payload.variables ?? undefined, payload.operationName ?? undefined, limits.maxCost);
        } catch (error) {
          return [error as GraphQLError];
        }
        connection.active.add(id);
        const contextValue: GraphQLContext = { principal: connection.principal, services };
        operations.set(contextValue, JSON.stringify([payload.query, payload.operationName ?? null, payload.variables ?? null]));
        sinks.set(contextValue, { socket: ctx.extra.socket, id });
        return { schema, document, variableValues: payload.variables, operationName: payload.operationName, contextValue };
      },
      // Every next payload of our subscriptions bypasses this hook (shared-subscribe.ts writes it, masked by `present`, itself); kept for any other.
      onNext: (_ctx, _id, _payload, _args, result) => (result.errors ? present(result) : undefined),
      onError: (ctx, id, _payload, errors) => {
        connections.get(ctx.extra.socket)?.active.delete(id);
        return mask(errors);
      },
      onComplete: (ctx, id) => {
        connections.get(ctx.extra.socket)?.active.delete(id);
      },
    },
    wss,
  );

  return {
    connections: () => wss.clients.size,
    close: async () => {
      for (const socket of wss.clients) socket.close(1001, 'server shutting down');
      await disposable.dispose();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}

/**
 * Documents that parsed within the token limit and passed validation (depth, aliases, directives
 * included), by query text, as Apollo's document store keeps them over HTTP: a client subscribing
 * with the same text again is not parsed and validated again. Only the checks that depend on the
 * text alone are skipped; cost (which depends on the variables) and the operation name are checked
 * per subscription. Bounded: at most 256 documents of at most 16 kB of text each, least recently
 * used dropped first.
 */
class ValidDocuments {
  private readonly byText = new Map<string, DocumentNode>();

  get(text: string): DocumentNode | undefined {
    const document = this.byText.get(text);
    if (document) {
      this.byText.delete(text);
      this.byText.set(text, document);
    }
    return document;
  }

  set(text: string, document: DocumentNode): void {
    if (text.length > 16_384) return;
    if (this.byText.size >= 256) this.byText.delete(this.byText.keys().next().value as string);
    this.byText.set(text, document);
  }
}
