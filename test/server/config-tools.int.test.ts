import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import type { RunState } from '../../src/domain/run/state.js';
import { ConfigError, parseConfig } from '../../src/orchestrator/config.js';
import { type GatehouseApp, startGatehouse } from '../../src/server/app.js';
import { repoRoot } from '../support/built.js';
import { fixtureCalls, startHttpFixture, until } from '../support/mcp-fixtures.js';
import type { Child } from '../support/processes.js';
import { kill9 } from '../support/processes.js';
import { TOKENS } from '../support/server-harness.js';
import { tempDir } from '../support/temp.js';

// Secrets come from the environment (GATEHOUSE_SECRET_<NAME>); this test file runs in its own process.
const CRM_TOKEN = 'crm-secret-7f3a9c1e55d2';
const MCP_TOKEN = 'mcp-secret-0b8e44d1a9f6';
process.env.GATEHOUSE_SECRET_CRM_TOKEN = CRM_TOKEN;
process.env.GATEHOUSE_SECRET_MCP_TOKEN = MCP_TOKEN;

const silent = { info: () => {}, warn: () => {}, error: () => {} };
const alice = { id: 'alice', role: 'developer' };

let tmp: ReturnType<typeof tempDir>;
let crm: Server;
let crmUrl: string;
const crmRequests: Array<{ method: string; url: string; headers: IncomingHttpHeaders; body: string }> = [];
let mcp: { child: Child; url: string };
let app: GatehouseApp | undefined;

function configFile(extra: Record<string, unknown>): string {
  const base = readFileSync(join(repoRoot, 'test/fixtures/gatehouse.yaml'), 'utf8');
  const file = join(tmp.dir, `gatehouse-${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(file, `${base}\n${stringify(extra)}`);
  return file;
}

const crmTool = () => ({
  name: 'crm.lookup',
  description: 'Looks a customer up in the CRM.',
  url: crmUrl,
  method: 'POST',
  headers: { authorization: { $secret: 'CRM_TOKEN' }, 'x-team': 'platform' },
  input: { type: 'object', properties: { customer: { type: 'string', pattern: '^c-[0-9]+$' } }, required: ['customer'], additionalProperties: false },
  output: { type: 'object', required: ['name'] },
  action: { category: 'crm', operation: 'read' },
  idempotent: true,
  timeoutMs: 5_000,
});

async function settled(runId: string): Promise<RunState> {
  let state: RunState | undefined;
  await until(async () => {
    state = await app!.services.orchestrator.getRun(runId);
    return ['SUCCEEDED', 'PARTIAL', 'FAILED', 'CANCELLED'].includes(state.status);
  }, `run ${runId} to finish`);
  return state!;
}

async function gql<T>(query: string): Promise<T> {
  const res = await fetch(`http://127.0.0.1:${app!.server.port}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKENS.developer}` },
    body: JSON.stringify({ query }),
  });
  const body = (await res.json()) as { data: T; errors?: unknown };
  expect(body.errors).toBeUndefined();
  return body.data;
}

/** Every file under `dir`, as bytes (SQLite, its WAL, keys, tokens). */
function filesUnder(dir: string): Array<{ path: string; bytes: Buffer }> {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [{ path, bytes: readFileSync(path) }];
  });
}

beforeAll(async () => {
  tmp = tempDir('gatehouse-config-tools-');
  crm = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      crmRequests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      // Echoes the credential it got: Gatehouse must not store it.
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ name: 'Ada', sawHeader: req.headers.authorization }));
    });
  });
  await new Promise<void>((r) => crm.listen(0, '127.0.0.1', r));
  crmUrl = `http://127.0.0.1:${(crm.address() as AddressInfo).port}/customers/lookup`;
  mcp = await startHttpFixture(tmp.dir, { MCP_FIXTURE_TOKEN: MCP_TOKEN });
  const configPath = configFile({
    tools: [crmTool()],
    mcpServers: {
      remote: { transport: 'http', url: mcp.url, headers: { authorization: { $secret: 'MCP_TOKEN', prefix: 'Bearer ' } } },
      gone: { transport: 'stdio', command: process.execPath, args: ['-e', 'process.exit(1)'], tools: { deploy: { action: { operation: 'read' } } }, connectTimeoutMs: 5_000 },
    },
  });
  app = await startGatehouse({
    env: { port: 0, host: '127.0.0.1', dataDir: join(tmp.dir, 'data'), configPath, logLevel: 'silent', shutdownGraceMs: 1_000 },
    log: silent,
    demoTools: false,
  });
});

afterAll(async () => {
  await app?.stop();
  await kill9(mcp.child);
  await new Promise((r) => crm.close(r));
  tmp.remove();
});

describe('tools from gatehouse.yaml on the packaged server', () => {
  it('starts although an MCP server is down; GraphQL `tools` shows its tools as unavailable', async () => {
    const data = await gql<{ tools: { edges: Array<{ node: { name: string; available: boolean; unavailableReason: string | null; operation: string } }> } }>(
      '{ tools(first: 100) { edges { node { name available unavailableReason operation } } } }',
    );
    const byName = new Map(data.tools.edges.map(({ node: t }) => [t.name, t]));
    expect(byName.get('gone.deploy')).toMatchObject({ available: false, unavailableReason: expect.stringContaining('MCP server gone is unavailable') });
    expect(byName.get('remote.echo')).toMatchObject({ available: true, unavailableReason: null, operation: 'read' });
    expect(byName.get('crm.lookup')).toMatchObject({ available: true, operation: 'read' });
  });

  it('a YAML HTTP tool: input checked by its JSON Schema, idempotency-key header, $secret header resolved at the call only', async () => {
    await app!.services.orchestrator.startRun({ runId: 'crm1', goal: 'look up', profile: 'technical', steps: [{ id: 'l', tool: 'crm.lookup', input: { customer: 'c-42' }, domain: 'http', dependsOn: [] }] }, alice);
    const done = await settled('crm1');
    expect(done.status).toBe('SUCCEEDED');
    expect(crmRequests).toHaveLength(1);
    expect(crmRequests[0]).toMatchObject({ method: 'POST', url: '/customers/lookup', body: JSON.stringify({ customer: 'c-42' }) });
    expect(crmRequests[0]!.headers).toMatchObject({ authorization: CRM_TOKEN, 'x-team': 'platform', 'idempotency-key': 'crm1:l:1' });
    const output = (await app!.store.readStream('run-crm1')).find((e) => e.type === 'ToolCallSucceeded')?.data as { output: unknown };
    expect(output.output).toEqual({ name: 'Ada', sawHeader: '[REDACTED]' });

    const events = await app!.store.readAll({});
    await expect(
      app!.services.orchestrator.startRun({ runId: 'crm2', goal: 'x', profile: 'technical', steps: [{ id: 'l', tool: 'crm.lookup', input: { customer: 'bob' }, domain: 'http', dependsOn: [] }] }, alice),
    ).rejects.toThrow(/input\.customer: must match pattern/);
    expect((await app!.store.readAll({})).length).toBe(events.length); // nothing appended
    expect(crmRequests).toHaveLength(1); // never sent
  });

  it('an MCP server over Streamable HTTP with a $secret bearer header: calls pass, the echoed secret is redacted', async () => {
    await app!.services.orchestrator.startRun(
      { runId: 'mcp1', goal: 'x', profile: 'technical', steps: [{ id: 'w', tool: 'remote.whoami', input: {}, domain: 'remote', dependsOn: [] }, { id: 'e', tool: 'remote.echo', input: { text: 'hi' }, domain: 'remote', dependsOn: [] }] },
      alice,
    );
    const mcp1 = await settled('mcp1');
    expect(mcp1.status, JSON.stringify(mcp1.failure)).toBe('SUCCEEDED');
    const events = await app!.store.readStream('run-mcp1');
    const outputs = events.filter((e) => e.type === 'ToolCallSucceeded').map((e) => JSON.stringify(e.data));
    expect(outputs.join('\n')).toContain('you sent Bearer [REDACTED]');
    expect(fixtureCalls(tmp.dir).map((c) => [c.tool, c.idempotencyKey]).sort()).toEqual([['echo', 'mcp1:e:1'], ['whoami', 'mcp1:w:1']]);
    await app!.services.orchestrator.startRun({ runId: 'gone1', goal: 'x', profile: 'technical', errorStrategy: 'FAIL_FAST', steps: [{ id: 'd', tool: 'gone.deploy', input: {}, domain: 'gone', dependsOn: [] }] }, alice);
    const gone = await settled('gone1');
    expect(gone.failure).toMatchObject({ failureMode: 'SYSTEM', error: { code: 'MCP_UNAVAILABLE' } });
  });

  it('no secret value is anywhere in the data folder (grep after stop)', async () => {
    await app!.stop();
    const files = filesUnder(join(tmp.dir, 'data'));
    expect(files.length).toBeGreaterThan(0);
    for (const f of files) {
      expect(f.bytes.includes(CRM_TOKEN), f.path).toBe(false);
      expect(f.bytes.includes(MCP_TOKEN), f.path).toBe(false);
    }
    app = undefined;
  });
});

describe('a bad tool entry stops the start with its path', () => {
  it('a schema error in a field names tools.<i>.<field>', () => {
    expect(() => parseConfig({ tools: [{ ...crmTool(), url: 'not a url' }] })).toThrow(ConfigError);
    expect(() => parseConfig({ tools: [{ ...crmTool(), url: 'not a url' }] })).toThrow(/tools\.0\.url/);
    expect(() => parseConfig({ mcpServers: { x: { transport: 'stdio' } } })).toThrow(/mcpServers\.x\.command/);
    expect(() => parseConfig({ tools: [{ ...crmTool(), headers: { authorization: { $secret: 'bad name!' } } }] })).toThrow(/tools\.0\.headers\.authorization/);
  });

  it('an input that is not a JSON Schema stops startGatehouse naming the entry', async () => {
    const configPath = configFile({ tools: [{ ...crmTool(), input: { type: 'objekt' } }] });
    await expect(
      startGatehouse({ env: { port: 0, host: '127.0.0.1', dataDir: join(tmp.dir, 'data-bad'), configPath, logLevel: 'silent', shutdownGraceMs: 1_000 }, log: silent, demoTools: false }),
    ).rejects.toThrow(/tools\.0 \(crm\.lookup\): not a valid JSON Schema/);
  });
});
