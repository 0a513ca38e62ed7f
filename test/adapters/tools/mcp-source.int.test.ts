import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { startConfiguredTools, type ConfiguredTools } from '../../../src/adapters/tools/configured-tools.js';
import type { SecretProvider } from '../../../src/domain/ports/secrets.js';
import { HttpToolConfig, McpServerConfig } from '../../../src/orchestrator/tool-config.js';
import { ToolRegistry } from '../../../src/orchestrator/tools/tool.js';
import { alice, type EngineHarness, engineHarness } from '../../support/engine-harness.js';
import { fixtureCalls, memoryLog, startHttpFixture, stdioFixtureConfig, until } from '../../support/mcp-fixtures.js';
import { kill9 } from '../../support/processes.js';
import { tempDir } from '../../support/temp.js';

const noSecrets: SecretProvider = { get: async () => undefined };
const patientRetry = { maxAttempts: 60, baseDelayMs: 50, maxDelayMs: 300, jitter: 0 };

let cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

async function setup(servers: Record<string, McpServerConfig>, secrets: SecretProvider = noSecrets) {
  const tmp = tempDir();
  const registry = new ToolRegistry();
  const log = memoryLog();
  const configured: ConfiguredTools = await startConfiguredTools({ tools: [], mcpServers: servers }, registry, secrets, log);
  cleanup.push(() => configured.close(), () => tmp.remove());
  return { registry, log, configured, dir: tmp.dir };
}

async function withEngine(registry: ToolRegistry): Promise<EngineHarness> {
  const h = await engineHarness(registry.list());
  cleanup.push(() => h.close());
  return h;
}

const step = (id: string, tool: string, input: Record<string, unknown> = {}) => ({ id, tool, input, domain: 'fixture', dependsOn: [] });

describe('an MCP server over stdio as a tool source', () => {
  it('lists every page of tools as <server>.<tool> with their input schemas, and re-lists on tools/list_changed', async () => {
    const dir = tempDir();
    cleanup.push(() => dir.remove());
    const { registry, configured } = await setup({ fx: stdioFixtureConfig(dir.dir) });
    const names = registry.list().map((t) => t.name).sort();
    // 9 tools at 3 per page: only following nextCursor finds them all.
    expect(names).toEqual(['fx.add', 'fx.add_tool', 'fx.delete_item', 'fx.echo', 'fx.fail', 'fx.flaky_read', 'fx.flaky_write', 'fx.slow', 'fx.whoami']);
    const echo = registry.get('fx.echo');
    expect(z.toJSONSchema(echo!.input)).toMatchObject({ type: 'object', properties: { text: { type: 'string', maxLength: 100 } }, required: ['text'] });
    expect(echo!.availability?.()).toEqual({ available: true });

    const h = await withEngine(registry);
    await h.api.startRun({ runId: 'late', goal: 'x', profile: 'technical', steps: [step('a', 'fx.add_tool')] }, alice);
    expect((await h.settled('late')).status).toBe('SUCCEEDED');
    await until(() => registry.get('fx.late_tool') !== undefined, 'late_tool to be registered after list_changed');
    expect(configured.sources[0]?.availability()).toEqual({ available: true });
  });

  it('a listed tool whose name is already taken is skipped with a warning; the server and its other tools still work', async () => {
    const dir = tempDir();
    cleanup.push(() => dir.remove());
    const registry = new ToolRegistry();
    const log = memoryLog();
    const taken = HttpToolConfig.parse({ name: 'fx.echo', description: 'an HTTP tool that got there first', url: 'http://127.0.0.1:9/echo' });
    const configured = await startConfiguredTools({ tools: [taken], mcpServers: { fx: stdioFixtureConfig(dir.dir) } }, registry, noSecrets, log);
    cleanup.push(() => configured.close());
    expect(configured.sources[0]?.availability()).toEqual({ available: true });
    expect(registry.get('fx.echo')?.description).toBe('an HTTP tool that got there first');
    expect(registry.get('fx.add')).toBeDefined();
    expect(log.lines.some((l) => l.msg.startsWith('MCP tool skipped') && (l.obj as { tool?: string }).tool === 'echo')).toBe(true);
  });

  it('MCP annotations set risk defaults (read-only -> read, destructive -> delete, idempotent) and config overrides them', async () => {
    const dir = tempDir();
    cleanup.push(() => dir.remove());
    const { registry } = await setup({
      fx: stdioFixtureConfig(dir.dir, { tools: { delete_item: { action: { category: 'inventory', operation: 'archive' }, idempotent: true, approval: { eligibleRoles: ['tech_lead'] } } } }),
    });
    const echo = registry.get('fx.echo')!;
    expect({ action: echo.action, idempotent: echo.idempotent, domain: echo.domain }).toEqual({ action: { category: 'fx', operation: 'read' }, idempotent: true, domain: 'fx' });
    const add = registry.get('fx.add')!;
    expect({ action: add.action, idempotent: add.idempotent }).toEqual({ action: { category: 'fx', operation: 'write' }, idempotent: true });
    const write = registry.get('fx.flaky_write')!;
    expect({ action: write.action, idempotent: write.idempotent }).toEqual({ action: { category: 'fx', operation: 'write' }, idempotent: false });
    const del = registry.get('fx.delete_item')!;
    expect({ action: del.action, idempotent: del.idempotent, approval: del.approval }).toEqual({ action: { category: 'inventory', operation: 'archive' }, idempotent: true, approval: { eligibleRoles: ['tech_lead'] } });
  });

  it('a call through a run reaches the server with the idempotency key in _meta; bad arguments are refused at startRun with the Ajv schema error, nothing appended', async () => {
    const dir = tempDir();
    cleanup.push(() => dir.remove());
    const { registry } = await setup({ fx: stdioFixtureConfig(dir.dir) });
    const h = await withEngine(registry);
    await h.api.startRun({ runId: 'ok', goal: 'x', profile: 'technical', steps: [step('e', 'fx.echo', { text: 'hello' })] }, alice);
    const done = await h.settled('ok');
    expect(done.status).toBe('SUCCEEDED');
    const events = await h.store.readStream('run-ok');
    expect(events.find((e) => e.type === 'ToolCallSucceeded')?.data).toMatchObject({ output: { structuredContent: { text: 'hello' }, content: [{ type: 'text', text: 'hello' }] } });
    expect(fixtureCalls(dir.dir)).toMatchObject([{ tool: 'echo', args: { text: 'hello' }, idempotencyKey: 'ok:e:1' }]);

    // Checked by Ajv against the server's inputSchema at startRun: refused, nothing appended, nothing sent.
    await expect(h.api.startRun({ runId: 'bad', goal: 'x', profile: 'technical', steps: [step('e', 'fx.echo', { text: 42 })] }, alice)).rejects.toThrow(
      /step e: input does not fit fx\.echo: input\.text: must be string/,
    );
    expect(await h.store.readStream('run-bad')).toEqual([]);
    expect(fixtureCalls(dir.dir)).toHaveLength(1);
  });

  it('a $secret in the env of a stdio server reaches the process but is scrubbed from what it answers', async () => {
    const dir = tempDir();
    cleanup.push(() => dir.remove());
    const value = 'env-secret-5c1d9e7a3b';
    const config = stdioFixtureConfig(dir.dir);
    if (config.transport !== 'stdio') throw new Error('stdio expected');
    const { registry } = await setup({ fx: { ...config, env: { ...config.env, FIXTURE_SECRET: { $secret: 'FX' } } } }, { get: async (n) => (n === 'FX' ? value : undefined) });
    const h = await withEngine(registry);
    await h.api.startRun({ runId: 'env', goal: 'x', profile: 'technical', steps: [step('w', 'fx.whoami')] }, alice);
    expect((await h.settled('env')).status).toBe('SUCCEEDED');
    const all = JSON.stringify(await h.store.readStream('run-env'));
    expect(all).toContain('you sent [REDACTED]');
    expect(all).not.toContain(value);
  });

  it('a call past its timeout is RESOURCE, and cancelling the run aborts the MCP request', async () => {
    const dir = tempDir();
    cleanup.push(() => dir.remove());
    const { registry } = await setup({ fx: stdioFixtureConfig(dir.dir, { tools: { slow: { timeoutMs: 300 } } }) });
    const h = await withEngine(registry);
    await h.api.startRun({ runId: 'late', goal: 'x', profile: 'technical', errorStrategy: 'FAIL_FAST', steps: [step('s', 'fx.slow', { ms: 60_000 })] }, alice);
    expect((await h.settled('late')).failure).toMatchObject({ failureMode: 'RESOURCE', error: { code: 'TIMEOUT' } });

    const { registry: r2 } = await setup({ fx: stdioFixtureConfig(dir.dir) });
    const h2 = await withEngine(r2);
    await h2.api.startRun({ runId: 'stop', goal: 'x', profile: 'technical', steps: [step('s', 'fx.slow', { ms: 60_000 })] }, alice);
    await until(() => fixtureCalls(dir.dir).length === 2, 'the second slow call to reach the server');
    await h2.api.cancelRun('stop', alice, 'changed my mind');
    const stopped = await h2.settled('stop');
    expect(stopped.status).toBe('CANCELLED');
    // The call's answer is recorded (an abort, not a hang until the 60 s the tool would take).
    await until(async () => (await h2.store.readStream('run-stop')).some((e) => e.type === 'ToolCallFailed'), 'the aborted call to be recorded');
    const failed = (await h2.store.readStream('run-stop')).find((e) => e.type === 'ToolCallFailed')?.data;
    expect(failed).toMatchObject({ failureMode: 'SYSTEM', error: { code: 'ABORTED' } });
  });

  it('an isError result is an AGENT failure (or what config maps it to)', async () => {
    const dir = tempDir();
    cleanup.push(() => dir.remove());
    const { registry } = await setup({ fx: stdioFixtureConfig(dir.dir) });
    const h = await withEngine(registry);
    await h.api.startRun({ runId: 'err', goal: 'x', profile: 'technical', errorStrategy: 'FAIL_FAST', steps: [step('f', 'fx.fail')] }, alice);
    expect((await h.settled('err')).failure).toMatchObject({ failureMode: 'AGENT', error: { code: 'MCP_TOOL_ERROR', message: expect.stringContaining('no such record') } });

    const dir2 = tempDir();
    cleanup.push(() => dir2.remove());
    const mapped = await setup({ fx: stdioFixtureConfig(dir2.dir, { tools: { fail: { isErrorAs: 'USER' } } }) });
    const h2 = await withEngine(mapped.registry);
    await h2.api.startRun({ runId: 'err2', goal: 'x', profile: 'technical', errorStrategy: 'FAIL_FAST', steps: [step('f', 'fx.fail')] }, alice);
    expect((await h2.settled('err2')).failure).toMatchObject({ failureMode: 'USER', error: { code: 'MCP_TOOL_ERROR' } });
  });

  it('a server killed mid-call: SYSTEM, retried after the restart only when idempotent; the dead server is restarted', async () => {
    const dir = tempDir();
    cleanup.push(() => dir.remove());
    const { registry, log, configured } = await setup({
      // Enough attempts to outlast the restart on a slow machine (attempts while it is down fail MCP_UNAVAILABLE).
      fx: stdioFixtureConfig(dir.dir, { tools: { flaky_read: { retry: patientRetry }, flaky_write: { retry: patientRetry } } }),
    });
    const h = await withEngine(registry);
    await h.api.startRun({ runId: 'idem', goal: 'x', profile: 'technical', errorStrategy: 'RETRY', steps: [step('r', 'fx.flaky_read')] }, alice);
    const idem = await h.settled('idem');
    expect(idem.status).toBe('SUCCEEDED');
    const idemEvents = await h.store.readStream('run-idem');
    const failed = idemEvents.filter((e) => e.type === 'ToolCallFailed').map((e) => e.data as { failureMode: string; retryable: boolean; error: { code: string } });
    expect(failed[0]).toMatchObject({ failureMode: 'SYSTEM', retryable: true, error: { code: 'MCP_TRANSPORT' } });
    expect(failed.slice(1).every((f) => f.failureMode === 'SYSTEM' && f.error.code === 'MCP_UNAVAILABLE')).toBe(true);
    const reads = fixtureCalls(dir.dir).filter((c) => c.tool === 'flaky_read');
    expect(reads.map((c) => c.idempotencyKey)).toEqual(['idem:r:1', `idem:r:${failed.length + 1}`]);
    expect(new Set(reads.map((c) => c.pid)).size).toBe(2); // the second attempt ran in a restarted process

    await until(() => configured.sources[0]!.availability().available, 'the server to be back');
    await h.api.startRun({ runId: 'once', goal: 'x', profile: 'technical', errorStrategy: 'RETRY', steps: [step('w', 'fx.flaky_write')] }, alice);
    const once = await h.settled('once');
    expect(once.status).toBe('FAILED');
    expect(once.failure).toMatchObject({ failureMode: 'SYSTEM', error: { code: 'MCP_TRANSPORT' } });
    const onceEvents = await h.store.readStream('run-once');
    expect(onceEvents.filter((e) => e.type === 'ToolCallFailed').map((e) => e.data)).toMatchObject([{ retryable: false }]);
    expect(fixtureCalls(dir.dir).filter((c) => c.tool === 'flaky_write')).toHaveLength(1);
    // Restarted with backoff each time it died.
    expect(log.lines.filter((l) => l.msg === 'MCP server unavailable').length).toBeGreaterThanOrEqual(2);
    await until(() => configured.sources[0]!.availability().available, 'the server to be restarted again');
  });

  it('a server that is down at start leaves its configured tools listed as unavailable; calls fail SYSTEM', async () => {
    const dir = tempDir();
    cleanup.push(() => dir.remove());
    const down = McpServerConfig.parse({
      transport: 'stdio',
      command: process.execPath,
      args: ['-e', 'console.error("cannot open the database"); process.exit(1)'],
      tools: { deploy: { approval: { eligibleRoles: ['tech_lead'] } } },
      reconnect: { baseDelayMs: 50, maxDelayMs: 200 },
    });
    const { registry, log } = await setup({ gone: down, fx: stdioFixtureConfig(dir.dir) });
    const deploy = registry.get('gone.deploy');
    expect(deploy?.availability?.()).toMatchObject({ available: false, reason: expect.stringContaining('MCP server gone is unavailable') });
    expect(registry.get('fx.echo')?.availability?.()).toEqual({ available: true });
    const h = await withEngine(new ToolRegistry(registry.list().filter((t) => t.name !== 'gone.deploy').concat({ ...deploy!, approval: undefined })));
    await h.api.startRun({ runId: 'down', goal: 'x', profile: 'technical', errorStrategy: 'FAIL_FAST', steps: [step('d', 'gone.deploy')] }, alice);
    expect((await h.settled('down')).failure).toMatchObject({ failureMode: 'SYSTEM', error: { code: 'MCP_UNAVAILABLE' } });
    // It keeps trying, with growing delays.
    await until(() => log.lines.filter((l) => l.msg === 'MCP server unavailable' && (l.obj as { server: string }).server === 'gone').length >= 3, 'reconnect attempts');
    const delays = log.lines.filter((l) => l.msg === 'MCP server unavailable' && (l.obj as { server?: string }).server === 'gone').map((l) => (l.obj as { retryInMs: number }).retryInMs);
    // Its stderr is what tells an operator why.
    expect(log.lines.some((l) => l.msg === 'MCP server stderr' && String((l.obj as { stderr?: string }).stderr).includes('cannot open the database'))).toBe(true);
    expect(delays.slice(0, 3)).toEqual([50, 100, 200]);
  });
});

describe('an MCP server over Streamable HTTP as a tool source', () => {
  it('a server that restarts (its sessions lost): the call fails SYSTEM, Gatehouse reconnects, the idempotent retry passes', async () => {
    const dir = tempDir();
    cleanup.push(() => dir.remove());
    let fixture = await startHttpFixture(dir.dir);
    cleanup.push(() => kill9(fixture.child));
    const port = new URL(fixture.url).port;
    const { registry, configured } = await setup({
      web: McpServerConfig.parse({ transport: 'http', url: fixture.url, reconnect: { baseDelayMs: 50, maxDelayMs: 300 }, tools: { echo: { retry: patientRetry } } }),
    });
    expect(registry.get('web.echo')?.availability?.()).toEqual({ available: true });
    const h = await withEngine(registry);
    await h.api.startRun({ runId: 'w1', goal: 'x', profile: 'technical', steps: [step('e', 'web.echo', { text: 'one' })] }, alice);
    expect((await h.settled('w1')).status).toBe('SUCCEEDED');

    await kill9(fixture.child);
    fixture = await startHttpFixture(dir.dir, { MCP_FIXTURE_PORT: port });
    await h.api.startRun({ runId: 'w2', goal: 'x', profile: 'technical', errorStrategy: 'RETRY', steps: [step('e', 'web.echo', { text: 'two' })] }, alice);
    const w2 = await h.settled('w2', 20_000);
    expect(w2.status, JSON.stringify(w2.failure)).toBe('SUCCEEDED');
    const failed = (await h.store.readStream('run-w2')).filter((e) => e.type === 'ToolCallFailed').map((e) => e.data as { failureMode: string });
    expect(failed.length).toBeGreaterThanOrEqual(1);
    expect(failed.every((f) => f.failureMode === 'SYSTEM')).toBe(true);
    expect(fixtureCalls(dir.dir).map((c) => c.args.text)).toEqual(['one', 'two']);
    expect(configured.sources[0]?.availability()).toEqual({ available: true });
  });
});
