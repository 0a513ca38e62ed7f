import { join } from 'node:path';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import type { Limits } from '../../src/graphql/http/limits.js';
import type { ToolDefinition } from '../../src/orchestrator/tools/tool.js';
import type { ServerEnv } from '../../src/server/env.js';
import { type GatehouseApp, type GatehouseAppOptions, startGatehouse } from '../../src/server/app.js';
import { repoRoot } from './built.js';
import { tempDir } from './temp.js';

/** The principals of test/fixtures/gatehouse.yaml, by role. */
export const TOKENS = {
  viewer: 'viewer-token-0000000001',
  requester: 'requester-token-000001',
  developer: 'alice-token-0000000001',
  tech_lead: 'bob-token-000000000001',
  devops_engineer: 'carol-token-00000000001',
  developer2: 'dana-token-000000000001',
} as const;

export interface GqlResponse<T = Record<string, unknown>> {
  status: number;
  body: { data?: T | null; errors?: Array<{ message: string; extensions?: { code?: string } & Record<string, unknown>; path?: unknown[] }> };
}

export interface ServerHarness {
  readonly app: GatehouseApp;
  readonly url: string;
  readonly wsUrl: string;
  readonly admin: string;
  gql<T = Record<string, unknown>>(token: string | undefined, query: string, variables?: Record<string, unknown>): Promise<GqlResponse<T>>;
  /** A graphql-ws client with the token in connectionParams. */
  ws(token: string | undefined, options?: { lazy?: boolean }): Client;
  /** Events in the whole log (to prove nothing was appended). */
  eventCount(): Promise<number>;
  close(): Promise<void>;
}

const silent = { info: () => {}, warn: () => {}, error: (o: object, m?: string) => console.error(m, o) };

/** Gatehouse started in this process on a free port, a temporary data folder and the fixture tokens. */
export async function startServer(options: { tools?: ToolDefinition[]; limits?: Partial<Limits>; demoDelayMs?: number; eventStore?: string; env?: Partial<ServerEnv>; retentionSchedule?: GatehouseAppOptions['retentionSchedule'] } = {}): Promise<ServerHarness> {
  const tmp = tempDir('gatehouse-server-');
  const app = await startGatehouse({
    env: { port: 0, host: '127.0.0.1', dataDir: join(tmp.dir, 'data'), configPath: join(repoRoot, 'test/fixtures/gatehouse.yaml'), logLevel: 'silent', shutdownGraceMs: 1_000, ...(options.eventStore ? { eventStore: options.eventStore } : {}), ...options.env },
    log: silent,
    tools: options.tools,
    demoDelayMs: options.demoDelayMs ?? 20,
    limits: options.limits,
    ...(options.retentionSchedule ? { retentionSchedule: options.retentionSchedule } : {}),
  });
  const url = `http://127.0.0.1:${app.server.port}/graphql`;
  const clients: Client[] = [];
  return {
    app,
    url,
    wsUrl: url.replace('http', 'ws'),
    admin: app.adminToken?.token as string,
    async gql(token, query, variables) {
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
        body: JSON.stringify({ query, variables }),
      });
      return { status: res.status, body: (await res.json()) as GqlResponse['body'] } as never;
    },
    ws(token, opts = {}) {
      const client = createClient({
        url: url.replace('http', 'ws'),
        webSocketImpl: WebSocket,
        lazy: opts.lazy ?? true,
        retryAttempts: 0,
        connectionParams: token ? { authorization: `Bearer ${token}` } : {},
      });
      clients.push(client);
      return client;
    },
    eventCount: async () => (await app.store.readAll({})).length,
    async close() {
      for (const c of clients) await c.dispose();
      await app.stop();
      tmp.remove();
    },
  };
}

/** Collects a subscription's payloads until `until` holds or the timeout passes. */
export function collect<T>(client: Client, query: string, variables: Record<string, unknown>, until: (items: T[]) => boolean, timeoutMs = 5_000): { done: Promise<T[]>; items: T[]; errors: unknown[]; stop: () => void } {
  const items: T[] = [];
  const errors: unknown[] = [];
  let stop = () => {};
  const done = new Promise<T[]>((resolve, reject) => {
    const timer = setTimeout(() => { unsubscribe(); reject(new Error(`subscription: ${items.length} item(s) after ${timeoutMs} ms; errors ${JSON.stringify(errors)}`)); }, timeoutMs);
    const unsubscribe = client.subscribe<T>({ query, variables }, {
      next: (value) => {
        if (value.errors) errors.push(...value.errors);
        if (value.data) items.push(value.data as T);
        if (until(items)) { clearTimeout(timer); unsubscribe(); resolve(items); }
      },
      error: (error) => { errors.push(error); clearTimeout(timer); resolve(items); },
      complete: () => { clearTimeout(timer); resolve(items); },
    });
    stop = () => { clearTimeout(timer); unsubscribe(); resolve(items); };
  });
  return { done, items, errors, stop };
}

/** A raw graphql-ws connection (`connection_init` sent on open): what happens at the protocol level. */
export function rawSocket(url: string, params: Record<string, unknown>): Promise<{ ws: WebSocket; messages: Array<Record<string, unknown>>; closed: Promise<number> }> {
  const ws = new WebSocket(url, 'graphql-transport-ws');
  const messages: Array<Record<string, unknown>> = [];
  const closed = new Promise<number>((resolve) => ws.on('close', (code) => resolve(code)));
  ws.on('message', (m) => messages.push(JSON.parse(m.toString()) as Record<string, unknown>));
  return new Promise((resolve, reject) => {
    ws.on('open', () => { ws.send(JSON.stringify({ type: 'connection_init', payload: params })); resolve({ ws, messages, closed }); });
    ws.on('error', reject);
  });
}

/** Polls `check` until it holds (a condition to wait for, not a timing assertion). */
export async function until(check: () => boolean, ms = 5_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not reached');
    await new Promise((r) => setTimeout(r, 10));
  }
}
