/**
 * `npm run bench -- mcp`: what Gatehouse adds to a low-risk MCP tool call. The same work (echo)
 * is called through Gatehouse's `/mcp` (a one-step run: RunStarted … ToolCallSucceeded appended to
 * SQLite, auto-approved by the default policy) and directly on an SDK McpServer over Streamable
 * HTTP, interleaved call by call so machine noise hits both alike; both servers run in this
 * process, as does the client. Then 10 concurrent MCP clients' throughput on each.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { z } from 'zod';
import { defineTool } from '../src/orchestrator/tools/tool.js';
import { startGatehouse } from '../src/server/app.js';
import { echo, startEchoHttp } from '../test/fixtures/mcp/echo-server.js';
import { percentile } from './support/measure.js';
import { printTable } from './support/table.js';

const DEV = 'bench-mcp-developer-token';
const CALLS = 2_000;
const WARMUP = 100;
const CLIENTS = 10;
const PER_CLIENT = 200;
const silent = { info: () => {}, warn: () => {}, error: (o: object, m?: string) => console.error(m, o) };

const echoTool = defineTool({
  name: 'echo',
  description: 'Returns its text.',
  input: z.object({ text: z.string().max(10_000) }),
  domain: 'bench',
  action: { category: 'file', operation: 'read' },
  idempotent: true,
  timeoutMs: 5_000,
  handler: (input) => echo(input),
});

async function connect(url: string, token?: string): Promise<Client> {
  const client = new Client({ name: 'bench', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers: token ? { authorization: `Bearer ${token}` } : {} } }));
  return client;
}

async function call(client: Client, i: number): Promise<void> {
  const result = await client.callTool({ name: 'echo', arguments: { text: `hello ${i}` } });
  if (result.isError) throw new Error(`call ${i} failed: ${JSON.stringify(result.content)}`);
}

async function throughput(url: string, token?: string): Promise<number> {
  const clients = await Promise.all(Array.from({ length: CLIENTS }, () => connect(url, token)));
  const t0 = performance.now();
  await Promise.all(clients.map(async (c, k) => { for (let i = 0; i < PER_CLIENT; i++) await call(c, k * PER_CLIENT + i); }));
  const seconds = (performance.now() - t0) / 1_000;
  await Promise.all(clients.map((c) => c.close()));
  return (CLIENTS * PER_CLIENT) / seconds;
}

export async function run(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-bench-mcp-'));
  const direct = await startEchoHttp();
  const app = await startGatehouse({
    env: { port: 0, host: '127.0.0.1', dataDir: dir, logLevel: 'silent', shutdownGraceMs: 1_000 },
    log: silent, demoTools: false, tools: [echoTool],
    tokens: [{ token: DEV, id: 'dev', role: 'developer' }, { token: 'bench-mcp-admin-token-01', id: 'root', role: 'admin' }],
  });
  const gatehouseUrl = `http://127.0.0.1:${app.server.port}/mcp`;
  try {
    const viaDirect = await connect(direct.url);
    const viaGatehouse = await connect(gatehouseUrl, DEV);
    for (let i = 0; i < WARMUP; i++) { await call(viaDirect, i); await call(viaGatehouse, i); }
    const d: number[] = [];
    const g: number[] = [];
    for (let i = 0; i < CALLS; i++) {
      let t0 = performance.now();
      await call(viaDirect, i);
      d.push(performance.now() - t0);
      t0 = performance.now();
      await call(viaGatehouse, i);
      g.push(performance.now() - t0);
    }
    await viaDirect.close();
    await viaGatehouse.close();
    // Attribution: the same one-step run through the in-process API (no MCP, no HTTP), waited on
    // the same way (the engine's change listener), so the table tells the run's cost from the door's.
    const orchestrator = app.services.orchestrator;
    const inProcess: number[] = [];
    for (let i = 0; i < CALLS; i++) {
      const t0 = performance.now();
      const started = await orchestrator.startRun({ goal: 'bench', profile: 'technical', steps: [{ id: 'call', tool: 'echo', input: { text: `hello ${i}` }, domain: 'bench', dependsOn: [] }] }, { id: 'dev', role: 'developer' });
      await new Promise<void>((resolve) => {
        const stop = orchestrator.onRunChange((id, s) => { if (id === started.runId && s.status === 'SUCCEEDED') { stop(); resolve(); } });
        void orchestrator.getRun(started.runId).then((s) => { if (s.status === 'SUCCEEDED') { stop(); resolve(); } });
      });
      inProcess.push(performance.now() - t0);
    }
    const row = (measure: string, v: number[], target = '') => ({ measure, n: v.length, p50_ms: percentile(v, 50), p95_ms: percentile(v, 95), p99_ms: percentile(v, 99), target });
    printTable(`MCP tools/call latency, ${CALLS.toLocaleString('en-US')} sequential calls each (interleaved)`, [
      row('direct: SDK McpServer (echo)', d),
      row('through Gatehouse /mcp (one-step run)', g),
      row('the same run via the in-process API (no MCP, no HTTP; run after the above)', inProcess),
      { measure: 'added by Gatehouse (p50 / p99 difference)', n: CALLS, p50_ms: percentile(g, 50) - percentile(d, 50), p95_ms: percentile(g, 95) - percentile(d, 95), p99_ms: percentile(g, 99) - percentile(d, 99), target: 'p50 ≤ 2 ms, p99 ≤ 8 ms' },
    ]);
    const directRate = await throughput(direct.url);
    const gatehouseRate = await throughput(gatehouseUrl, DEV);
    printTable(`MCP throughput, ${CLIENTS} concurrent clients × ${PER_CLIENT} calls`, [
      { measure: 'direct: SDK McpServer (echo)', calls_per_s: directRate },
      { measure: 'through Gatehouse /mcp', calls_per_s: gatehouseRate },
    ]);
  } finally {
    await app.stop();
    await direct.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
