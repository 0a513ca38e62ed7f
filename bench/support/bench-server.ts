/**
 * Gatehouse started in the bench's own process as `npm start` composes it (startGatehouse: SQLite
 * in a temporary folder, read models, engine, real HTTP and graphql-ws), with bench tools instead
 * of the demo tools, and a GraphQL-over-HTTP caller. Shared by `bench -- api` and `bench -- curves`.
 */
import { z } from 'zod';
import type { TokenEntry } from '../../src/domain/roles.js';
import { defineTool, type ToolDefinition } from '../../src/orchestrator/tools/tool.js';
import { type GatehouseApp, startGatehouse } from '../../src/server/app.js';

/** A developer's token (starts runs). */
export const DEV = 'bench-developer-token-01';
/** A tech lead's token (approves `bench.gated`). */
export const LEAD = 'bench-techlead-token-001';

const silent = { info: () => {}, warn: () => {}, error: (o: object, m?: string) => console.error(m, o) };
const base = { description: 'bench', domain: 'bench', idempotent: true, timeoutMs: 5_000, handler: () => ({ ok: true }) } as const;
/** Answers at once. */
export const benchNoop = defineTool({ ...base, name: 'bench.noop', input: z.object({}).loose(), action: { category: 'file', operation: 'read' } });
/** Answers at once once a tech lead approved it (a staging deploy: medium risk, one approval). */
export const benchGated = defineTool({ ...base, name: 'bench.gated', input: z.object({}).loose(), action: { category: 'deploy', operation: 'release', environment: 'staging' }, approval: { eligibleRoles: ['tech_lead'] } });

/** A started server in `dir` with `tools`, the DEV, LEAD and an admin token (and `tokens`), and a GraphQL caller. */
export async function startBenchServer(dir: string, options: { tools: ToolDefinition[]; tokens?: TokenEntry[] }) {
  const app: GatehouseApp = await startGatehouse({
    env: { port: 0, host: '127.0.0.1', dataDir: dir, logLevel: 'silent', shutdownGraceMs: 1_000 },
    log: silent, demoTools: false, tools: options.tools,
    tokens: [{ token: DEV, id: 'dev', role: 'developer' }, { token: LEAD, id: 'lead', role: 'tech_lead' }, { token: 'bench-admin-token-00001', id: 'root', role: 'admin' }, ...(options.tokens ?? [])],
  });
  const url = `http://127.0.0.1:${app.server.port}/graphql`;
  const gql = async (token: string, query: string, variables: Record<string, unknown>) => {
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify({ query, variables }) });
    const body = (await res.json()) as { data?: Record<string, any>; errors?: unknown[] };
    if (body.errors) throw new Error(JSON.stringify(body.errors));
    return body.data as Record<string, any>;
  };
  return { app, url, gql };
}
