import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';
import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import express, { type RequestHandler, type Response } from 'express';
import { bearerToken, type TokenDirectory } from '../graphql/auth/tokens.js';
import { createMcpServer, type McpGatewayOptions } from './gateway.js';

/** The `/mcp` endpoint's settings besides the gateway's. */
export interface McpHttpOptions extends McpGatewayOptions {
  readonly tokens: TokenDirectory;
  readonly maxBodyBytes: number;
  /** Open sessions at most; a new `initialize` beyond it is answered 503. Default 1,000. */
  readonly maxSessions?: number;
  /** A session with no open request (nor SSE stream) for this long is closed. Default 30 minutes. */
  readonly sessionIdleMs?: number;
}

/** `/mcp` mounted on an express app: the handler and a close that ends every session. */
export interface McpHttpEndpoint {
  readonly handler: RequestHandler[];
  /** Open MCP sessions. */
  sessions(): number;
  close(): Promise<void>;
}

interface Session {
  readonly transport: StreamableHTTPServerTransport;
  readonly server: Server;
  /** The principal that opened it: another token may not ride on its id. */
  readonly principalId: string;
  /** Requests and SSE streams open on it: a session is idle only when none is. */
  open: number;
  idle?: NodeJS.Timeout;
}

/**
 * Streamable HTTP at `/mcp`: bearer tokens as for GraphQL (checked on every request, so a session
 * never outlives its token), stateful sessions keyed by the `mcp-session-id` the transport issues.
 */
export function mcpHttpEndpoint(options: McpHttpOptions): McpHttpEndpoint {
  const sessions = new Map<string, Session>();
  const maxSessions = options.maxSessions ?? 1_000;
  const idleMs = options.sessionIdleMs ?? 30 * 60_000;
  // A client that vanished without DELETE would hold its slot for ever: close it once idle.
  const expire = (id: string, session: Session) => {
    clearTimeout(session.idle);
    session.idle = setTimeout(() => {
      if (session.open > 0 || sessions.get(id) !== session) return;
      sessions.delete(id);
      void session.server.close();
    }, idleMs);
    session.idle.unref();
  };
  const track = (id: string, session: Session, res: Response) => {
    clearTimeout(session.idle);
    session.open += 1;
    res.once('close', () => {
      session.open -= 1;
      if (session.open === 0) expire(id, session);
    });
  };
  const handle: RequestHandler = async (req, res) => {
    const token = bearerToken(req.headers.authorization);
    const principal = token ? options.tokens.resolve(token) : undefined;
    if (!token || !principal) {
      res.set('WWW-Authenticate', 'Bearer realm="gatehouse"');
      return void jsonRpcError(res, 401, -32001, 'unauthenticated: send Authorization: Bearer <token>');
    }
    const auth: AuthInfo = { token, clientId: principal.id, scopes: [principal.role], extra: { principal } };
    (req as IncomingMessage & { auth?: AuthInfo }).auth = auth;
    const sessionId = req.headers['mcp-session-id'];
    if (typeof sessionId === 'string') {
      const session = sessions.get(sessionId);
      if (!session) return void jsonRpcError(res, 404, -32001, 'unknown or closed session: initialize again');
      if (session.principalId !== principal.id) return void jsonRpcError(res, 403, -32001, 'this session belongs to another principal');
      track(sessionId, session, res);
      return session.transport.handleRequest(req, res, req.body);
    }
    if (req.method !== 'POST' || !isInitializeRequest(req.body)) return void jsonRpcError(res, 400, -32000, 'no mcp-session-id: send initialize first');
    if (sessions.size >= maxSessions) return void jsonRpcError(res, 503, -32000, 'too many open MCP sessions; try again later');
    const server = createMcpServer(options);
    const transport: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      onsessioninitialized: (id) => {
        const session: Session = { transport, server, principalId: principal.id, open: 0 };
        sessions.set(id, session);
        track(id, session, res);
      },
      onsessionclosed: (id) => void sessions.delete(id),
    });
    transport.onclose = () => {
      const id = transport.sessionId;
      if (id) clearTimeout(sessions.get(id)?.idle);
      if (id) sessions.delete(id);
    };
    await server.connect(transport);
    await transport.handleRequest(req, res, req.body);
  };
  return {
    handler: [express.json({ limit: options.maxBodyBytes, strict: true }), (req, res, next) => void (handle(req, res, next) as Promise<void>).catch(next)],
    sessions: () => sessions.size,
    async close() {
      const open = [...sessions.values()];
      sessions.clear();
      for (const s of open) clearTimeout(s.idle);
      await Promise.allSettled(open.map((s) => s.server.close()));
    },
  };
}

function jsonRpcError(res: Response, status: number, code: number, message: string): void {
  res.status(status).json({ jsonrpc: '2.0', error: { code, message }, id: null });
}
