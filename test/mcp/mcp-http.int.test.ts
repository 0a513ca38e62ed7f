import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult, Progress } from '@modelcontextprotocol/sdk/types.js';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { runIdOfApproval } from '../../src/orchestrator/api.js';
import { defineTool, ToolError } from '../../src/orchestrator/tools/tool.js';
import { type ServerHarness, startServer, TOKENS, until } from '../support/server-harness.js';
import { tempDir } from '../support/temp.js';

let h: ServerHarness;
let base: string;
const clients: Client[] = [];

async function connect(token: string | undefined, server = base, name = 'test-agent'): Promise<Client> {
  const transport = new StreamableHTTPClientTransport(new URL(`${server}/mcp`), { requestInit: { headers: token ? { authorization: `Bearer ${token}` } : {} } });
  const client = new Client({ name, version: '9.9.9' });
  await client.connect(transport);
  clients.push(client);
  return client;
}

const text = (r: unknown) => ((r as CallToolResult).content[0] as { text: string }).text;

/** Calls a gated tool and resolves with the approval id named by the first progress notification. */
function gatedCall(client: Client, args: Record<string, unknown>, signal?: AbortSignal) {
  const progress: Progress[] = [];
  let seen: (id: string) => void = () => {};
  const approvalId = new Promise<string>((resolve) => (seen = resolve));
  const result = client.callTool({ name: 'deploy.release', arguments: args }, undefined, {
    signal,
    resetTimeoutOnProgress: true,
    onprogress: (p) => {
      progress.push(p);
      const id = /waiting for approval (\S+):/.exec(p.message ?? '')?.[1];
      if (id) seen(id);
    },
  });
  return { progress, approvalId, result };
}

async function decide(verb: 'approve' | 'deny', approvalId: string, justification: string) {
  const input = verb === 'approve' ? 'ApproveInput' : 'DenyInput';
  const res = await h.gql(TOKENS.tech_lead, `mutation($input: ${input}!) { ${verb}(input: $input) { approval { status } } }`, { input: { approvalId, justification } });
  expect(res.body.errors).toBeUndefined();
}

async function eventsOf(runId: string) {
  return h.app.store.readStream(`run-${runId}`);
}

// A tool that fails on purpose, as a USER error (not retried): what an agent sees of a failed call.
const broken = defineTool({
  name: 'ticket.close', description: 'Closes a ticket.', input: z.object({ id: z.string() }), domain: 'tickets',
  action: { category: 'file', operation: 'read' }, idempotent: false, timeoutMs: 1_000,
  handler: (input) => {
    throw new ToolError('USER', `no ticket ${input.id}`);
  },
});

beforeAll(async () => {
  h = await startServer({ tools: [broken] });
  base = h.url.replace(/\/graphql$/, '');
});
afterAll(async () => {
  for (const c of clients) await c.close().catch(() => undefined);
  await h.close();
});

describe('Gatehouse as an MCP server over Streamable HTTP (/mcp)', () => {
  it('refuses a request without a token (401) or with an unknown one, before any session opens', async () => {
    const res = await fetch(`${base}/mcp`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'x', version: '1' } } }),
    });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/);
    await expect(connect('not-a-token-at-all-000')).rejects.toThrow(/401|unauthenticated/i);
    expect(h.app.mcp.sessions()).toBe(0);
  });

  it('lists the tools the profile allows, with their input schema and annotations, and gatehouse.run_status', async () => {
    const client = await connect(TOKENS.developer);
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name)).toEqual(['db.execute', 'deploy.release', 'file.read', 'ticket.close', 'gatehouse.run_status']);
    const read = tools.find((t) => t.name === 'file.read');
    expect(read?.inputSchema).toMatchObject({ type: 'object', properties: { path: { type: 'string' } }, required: ['path'] });
    expect(read?.annotations).toMatchObject({ readOnlyHint: true, idempotentHint: true });
    expect(tools.find((t) => t.name === 'deploy.release')?.annotations).toMatchObject({ readOnlyHint: false, destructiveHint: true, idempotentHint: false });
  });

  it('passes a low-risk call through and answers with the tool output; the run names the principal and the MCP client', async () => {
    const client = await connect(TOKENS.developer, base, 'desk-agent');
    const result = (await client.callTool({ name: 'file.read', arguments: { path: 'release-notes.md' } })) as CallToolResult;
    expect(result.isError).toBeFalsy();
    expect(JSON.parse(text(result))).toMatchObject({ path: 'release-notes.md', text: expect.stringContaining('Release 1.4') });
    const runId = result._meta?.['gatehouse/runId'] as string;
    const events = await eventsOf(runId);
    const started = events.find((e) => e.type === 'RunStarted');
    expect(started?.metadata.actor).toBe('user:alice');
    expect((started?.data as { goal: string }).goal).toMatch(/^MCP tools\/call file\.read from desk-agent 9\.9\.9 \(session [0-9a-f-]{36}\)$/);
    expect(events.map((e) => e.type)).toContain('ToolCallSucceeded');
  });

  it('holds a gated call while it waits, with progress naming the approval, and returns the result once approved over GraphQL', async () => {
    const client = await connect(TOKENS.developer);
    const call = gatedCall(client, { environment: 'production', version: '1.4.0' });
    const approvalId = await call.approvalId;
    expect(call.progress[0]?.message).toBe(`waiting for approval ${approvalId}: high risk, 0 of 1 approval`);
    await decide('approve', approvalId, 'release window is open');
    const result = (await call.result) as CallToolResult;
    expect(result.isError).toBeFalsy();
    expect(JSON.parse(text(result))).toMatchObject({ released: '1.4.0', environment: 'production' });
  });

  it('answers a denied call with an isError result naming who denied it and why', async () => {
    const client = await connect(TOKENS.developer);
    const call = gatedCall(client, { environment: 'production', version: '1.5.0' });
    await decide('deny', await call.approvalId, 'not on a Friday');
    const result = (await call.result) as CallToolResult;
    expect(result.isError).toBe(true);
    expect(text(result)).toMatch(/^denied by bob \(tech_lead\): not on a Friday \(run \S+ FAILED\)$/);
  });

  it('answers a failed tool call with an isError result naming the failure mode and the run', async () => {
    const client = await connect(TOKENS.developer);
    const result = (await client.callTool({ name: 'ticket.close', arguments: { id: 'T-9' } })) as CallToolResult;
    expect(result.isError).toBe(true);
    const runId = result._meta?.['gatehouse/runId'] as string;
    expect(text(result)).toBe(`USER failure: no ticket T-9 (run ${runId} FAILED)`);
    expect((await eventsOf(runId)).map((e) => e.type)).toContain('ToolCallFailed');
  });

  it('refuses bad arguments with the schema error and appends nothing', async () => {
    const client = await connect(TOKENS.developer);
    const before = await h.eventCount();
    const result = (await client.callTool({ name: 'deploy.release', arguments: { environment: 'moon', version: '' } })) as CallToolResult;
    expect(result.isError).toBe(true);
    expect(text(result)).toMatch(/^VALIDATION: arguments do not fit deploy\.release: .*environment/);
    await expect(client.callTool({ name: 'no.such.tool', arguments: {} })).rejects.toThrow(/unknown tool no\.such\.tool/);
    expect(await h.eventCount()).toBe(before);
  });

  it('refuses a viewer (it may not start runs) and appends nothing', async () => {
    const client = await connect(TOKENS.viewer);
    const before = await h.eventCount();
    const result = (await client.callTool({ name: 'file.read', arguments: { path: 'release-notes.md' } })) as CallToolResult;
    expect(result).toMatchObject({ isError: true, content: [{ type: 'text', text: 'UNAUTHORIZED: role viewer may not start runs' }] });
    expect(await h.eventCount()).toBe(before);
  });

  it('cancels the run when the MCP client cancels the request', async () => {
    const client = await connect(TOKENS.developer);
    const abort = new AbortController();
    const call = gatedCall(client, { environment: 'production', version: '1.6.0' }, abort.signal);
    const runId = runIdOfApproval(await call.approvalId);
    abort.abort('the user pressed stop');
    await expect(call.result).rejects.toThrow();
    const state = await new Promise((resolve) => {
      const stop = h.app.services.orchestrator.onRunChange((id, s) => id === runId && s.status === 'CANCELLED' && (stop(), resolve(s)));
      void h.app.services.orchestrator.getRun(runId).then((s) => s.status === 'CANCELLED' && (stop(), resolve(s)));
    });
    expect(state).toMatchObject({ status: 'CANCELLED' });
    const cancelled = (await eventsOf(runId)).find((e) => e.type === 'RunCancelled');
    expect(cancelled?.metadata.actor).toBe('user:alice');
  });
});

describe('the MCP wait limit and gatehouse.run_status', () => {
  let short: ServerHarness;
  beforeAll(async () => {
    short = await startServer({ env: { mcpWaitMs: 200 } });
  });
  afterAll(() => short.close());

  it('answers "still waiting for approval" with the run id when the limit passes; run_status reports the gate, then the result', async () => {
    const server = short.url.replace(/\/graphql$/, '');
    const client = await connect(TOKENS.developer, server);
    const waited = (await client.callTool({ name: 'deploy.release', arguments: { environment: 'production', version: '2.0.0' } })) as CallToolResult;
    expect(waited.isError).toBe(true);
    const runId = waited._meta?.['gatehouse/runId'] as string;
    const approvalId = /^still waiting for approval (\S+);/.exec(text(waited))?.[1] as string;
    expect(runIdOfApproval(approvalId)).toBe(runId);
    expect(text(waited)).toBe(`still waiting for approval ${approvalId}; run ${runId}: call gatehouse.run_status with {"runId":"${runId}"} later`);

    const open = (await client.callTool({ name: 'gatehouse.run_status', arguments: { runId } })) as CallToolResult;
    expect(open.isError).toBeFalsy();
    expect(text(open)).toBe(`run ${runId} is RUNNING: waiting for approval ${approvalId}: high risk, 0 of 1 approval`);

    // Someone else's run is not theirs to read.
    const other = await connect(TOKENS.developer2, server);
    expect(text(await other.callTool({ name: 'gatehouse.run_status', arguments: { runId } }))).toBe(`NOT_FOUND: no run ${runId}`);
    // Nor a viewer's: the answer would be the tool's output, which viewers do not see over GraphQL either.
    const viewer = await connect(TOKENS.viewer, server);
    expect(text(await viewer.callTool({ name: 'gatehouse.run_status', arguments: { runId } }))).toBe(`NOT_FOUND: no run ${runId}`);

    const res = await short.gql(TOKENS.tech_lead, 'mutation($input: ApproveInput!) { approve(input: $input) { approval { status } } }', { input: { approvalId, justification: 'ok' } });
    expect(res.body.errors).toBeUndefined();
    await new Promise<void>((resolve) => {
      const stop = short.app.services.orchestrator.onRunChange((id, s) => id === runId && s.status === 'SUCCEEDED' && (stop(), resolve()));
      void short.app.services.orchestrator.getRun(runId).then((s) => s.status === 'SUCCEEDED' && (stop(), resolve()));
    });
    const done = (await client.callTool({ name: 'gatehouse.run_status', arguments: { runId } })) as CallToolResult;
    expect(done.isError).toBeFalsy();
    expect(JSON.parse(text(done))).toMatchObject({ released: '2.0.0' });
  });

  it('a run not started by a tools/call (GraphQL, a playbook) reads as its status, not as "failed: no error recorded"', async () => {
    const started = await short.gql(TOKENS.developer, 'mutation($input: StartRunInput!) { startRun(input: $input) { runId } }', {
      input: { goal: 'two steps', profile: 'technical', steps: [{ id: 'a', tool: 'file.read', domain: 'files', input: { path: 'release-notes.md' } }, { id: 'b', tool: 'file.read', domain: 'files', input: { path: 'release-notes.md' }, dependsOn: ['a'] }] },
    });
    expect(started.body.errors).toBeUndefined();
    const runId = (started.body.data as { startRun: { runId: string } }).startRun.runId;
    await new Promise<void>((resolve) => {
      const stop = short.app.services.orchestrator.onRunChange((id, s) => id === runId && s.status === 'SUCCEEDED' && (stop(), resolve()));
      void short.app.services.orchestrator.getRun(runId).then((s) => s.status === 'SUCCEEDED' && (stop(), resolve()));
    });
    const client = await connect(TOKENS.developer, short.url.replace(/\/graphql$/, ''));
    const status = (await client.callTool({ name: 'gatehouse.run_status', arguments: { runId } })) as CallToolResult;
    expect(status.isError).toBeFalsy();
    expect(text(status)).toBe(`run ${runId} is SUCCEEDED: not started by a tools/call, so it has no single result; read it over GraphQL (run, runEvents)`);
    expect(status._meta).toEqual({ 'gatehouse/runId': runId, 'gatehouse/status': 'SUCCEEDED' });
  });
});

describe('the MCP heartbeat', () => {
  let beat: ServerHarness;
  beforeAll(async () => {
    beat = await startServer({ env: { mcpHeartbeatMs: 20 } });
  });
  afterAll(() => beat.close());

  it('repeats the waiting message while a gate stays open, so a client resetting its timeout on progress keeps waiting', async () => {
    const client = await connect(TOKENS.developer, beat.url.replace(/\/graphql$/, ''));
    const messages: string[] = [];
    let enough: () => void = () => {};
    const three = new Promise<void>((resolve) => (enough = resolve));
    const call = client.callTool({ name: 'deploy.release', arguments: { environment: 'production', version: '4.0.0' } }, undefined, {
      resetTimeoutOnProgress: true,
      onprogress: (p) => {
        messages.push(p.message ?? '');
        if (messages.length >= 3) enough();
      },
    });
    await three;
    expect(new Set(messages.slice(0, 3)).size).toBe(1);
    const approvalId = /waiting for approval (\S+):/.exec(messages[0] as string)?.[1] as string;
    const res = await beat.gql(TOKENS.tech_lead, 'mutation($input: DenyInput!) { deny(input: $input) { approval { status } } }', { input: { approvalId, justification: 'enough' } });
    expect(res.body.errors).toBeUndefined();
    expect(text(await call)).toMatch(/^denied by bob \(tech_lead\): enough/);
  });
});

describe('MCP sessions belong to their principal', () => {
  it('refuses a session id sent with another principal\'s token (403) and an unknown session id (404)', async () => {
    const client = await connect(TOKENS.developer);
    const sessionId = (client.transport as StreamableHTTPClientTransport).sessionId as string;
    expect(sessionId).toMatch(/^[0-9a-f-]{36}$/);
    const post = (token: string, sid: string) =>
      fetch(`${base}/mcp`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', authorization: `Bearer ${token}`, 'mcp-session-id': sid, 'mcp-protocol-version': '2025-06-18' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'tools/list', params: {} }),
      });
    expect((await post(TOKENS.developer2, sessionId)).status).toBe(403);
    expect((await post(TOKENS.developer, '00000000-0000-4000-8000-000000000000')).status).toBe(404);
    expect((await post(TOKENS.developer, sessionId)).status).toBe(200);
  });
});

describe('idle MCP sessions', () => {
  let idle: ServerHarness;
  beforeAll(async () => {
    // Long enough that opening a stream right after initialize is never "idle" even on a loaded machine.
    idle = await startServer({ env: { mcpSessionIdleMs: 2_000 } });
  });
  afterAll(() => idle.close());

  it('closes a session that has nothing open once it is idle, and keeps one whose client holds its stream', async () => {
    const server = idle.url.replace(/\/graphql$/, '');
    const headers = { 'content-type': 'application/json', accept: 'application/json, text/event-stream', authorization: `Bearer ${TOKENS.developer}` };
    const open = async (name: string) => {
      const init = await fetch(`${server}/mcp`, {
        method: 'POST', headers,
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name, version: '1' } } }),
      });
      await init.text();
      return init.headers.get('mcp-session-id') as string;
    };
    const session = (sid: string) => ({ ...headers, 'mcp-session-id': sid, 'mcp-protocol-version': '2025-06-18' });
    const held = await open('holds-a-stream');
    const stream = new AbortController();
    const sse = await fetch(`${server}/mcp`, { method: 'GET', headers: { ...session(held), accept: 'text/event-stream' }, signal: stream.signal });
    expect(sse.status).toBe(200);
    const gone = await open('gone');
    await until(() => idle.app.mcp.sessions() === 1, 20_000);
    const list = (sid: string) => fetch(`${server}/mcp`, { method: 'POST', headers: session(sid), body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list', params: {} }) });
    expect((await list(gone)).status).toBe(404);
    const kept = await list(held);
    expect(kept.status).toBe(200);
    await kept.text();
    stream.abort();
  });
});

describe('each principal\'s MCP calls run under its own profile', () => {
  const tmp = tempDir('gatehouse-mcp-profiles-');
  const config = (profile: string) => {
    const path = join(tmp.dir, `${profile}.yaml`);
    writeFileSync(path, [
      'auth:',
      '  tokens:',
      `    - { id: reader-bot, role: developer, token: reader-bot-token-0001, mcpProfile: ${profile} }`,
      '    - { id: alice, role: developer, token: alice-token-0000000001 }',
      'profiles:',
      '  readers: { name: readers, allowedTools: ["file.*"], budget: {}, errorStrategy: FAIL_FAST, maxParallel: 1, routing: round_robin }',
      '',
    ].join('\n'));
    return path;
  };

  it('tools/list and tools/call follow the token\'s mcpProfile; a token without one gets the default', async () => {
    const own = await startServer({ env: { configPath: config('readers') } });
    try {
      const server = own.url.replace(/\/graphql$/, '');
      const reader = await connect('reader-bot-token-0001', server, 'reader');
      expect((await reader.listTools()).tools.map((t) => t.name)).toEqual(['file.read', 'gatehouse.run_status']);
      const before = (await own.app.store.readAll()).length;
      await expect(reader.callTool({ name: 'deploy.release', arguments: { environment: 'dev', version: '1' } })).rejects.toThrow(/unknown tool deploy\.release/);
      expect((await own.app.store.readAll()).length).toBe(before); // refused before anything is appended
      const ok = await reader.callTool({ name: 'file.read', arguments: { path: 'release-notes.md' } });
      expect(ok.isError).toBeFalsy();
      const other = await connect(TOKENS.developer, server, 'default');
      expect((await other.listTools()).tools.map((t) => t.name)).toContain('deploy.release');
    } finally {
      await own.close();
    }
  });

  it('a token naming a profile that does not exist stops the start with its path', async () => {
    await expect(startServer({ env: { configPath: config('nope') } })).rejects.toThrow(/auth\.tokens\.0\.mcpProfile \(reader-bot\): no profile "nope"/);
  });
});
