import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createSqliteRunIndex } from '../../src/adapters/runindex/sqlite-run-index.js';
import { ValidationError } from '../../src/domain/errors.js';
import type { SecretProvider } from '../../src/domain/ports/secrets.js';
import { defineTool, ToolError } from '../../src/orchestrator/tools/tool.js';
import { alice, bob, type EngineHarness, engineHarness, restartedEngine, teardownEach } from '../support/engine-harness.js';

const Any = z.record(z.string(), z.unknown());
const step = (id: string, tool: string, dependsOn: string[] = [], input: Record<string, unknown> = {}) => ({ id, tool, input, domain: 'ops', dependsOn });
const terminal = (s: { status: string }) => ['SUCCEEDED', 'PARTIAL', 'FAILED', 'CANCELLED'].includes(s.status);

/** A tool that hangs until released; records every key it was called with. */
function hanging(name: string, idempotent: boolean) {
  const keys: string[] = [];
  let release: (() => void) | undefined;
  const tool = defineTool({
    name, description: 'hangs', input: Any, domain: 'ops', action: { category: 'write', operation: 'write' },
    idempotent, timeoutMs: 150,
    handler: (_i, ctx) => {
      keys.push(ctx.idempotencyKey);
      return new Promise((resolve) => { release = () => resolve({ done: ctx.idempotencyKey }); });
    },
  });
  return { tool, keys, release: () => release?.() };
}

let h: EngineHarness;
const cleanups = teardownEach(() => h);

describe('recovery after a crash', () => {
  it('an interrupted idempotent call is run again with the same idempotency key', async () => {
    const first = hanging('sync', true);
    h = await engineHarness([first.tool], { interruptGraceMs: 20 });
    await h.api.startRun({ runId: 'idem', goal: 'x', profile: 'technical', steps: [step('s', 'sync')] }, alice);
    await h.engine.waitFor('idem', (s) => s.steps[0]?.status === 'RUNNING');
    await h.engine.close(); // the "crash": the call's result is never recorded

    const quick = defineTool({ ...first.tool, handler: (_i, ctx) => ({ done: ctx.idempotencyKey }) });
    const next = restartedEngine(h, [quick], { interruptGraceMs: 20 });
    cleanups.push(next.close);
    expect(await next.engine.start()).toEqual(['idem']);
    const done = await next.engine.waitFor('idem', terminal);
    expect(done.status).toBe('SUCCEEDED');
    expect(done.steps[0]?.output).toEqual({ done: 'idem:s:1' });
    const events = await next.store.readStream('run-idem');
    const starts = events.filter((e) => e.type === 'ToolCallStarted').map((e) => e.data as { attempt: number; idempotencyKey: string; recovered?: boolean });
    expect(starts).toMatchObject([{ attempt: 1, idempotencyKey: 'idem:s:1' }, { attempt: 1, idempotencyKey: 'idem:s:1', recovered: true }]);
    expect(starts[0]).not.toHaveProperty('recovered');
  });

  it('an interrupted non-idempotent call fails as INTERRUPTED and is not repeated, even under RETRY', async () => {
    const charge = hanging('charge', false);
    h = await engineHarness([charge.tool], { interruptGraceMs: 20 });
    await h.api.startRun({ runId: 'pay', goal: 'x', profile: 'technical', errorStrategy: 'RETRY', steps: [step('c', 'charge')] }, alice);
    await h.engine.waitFor('pay', (s) => s.steps[0]?.status === 'RUNNING');
    await h.engine.close();

    const next = restartedEngine(h, [charge.tool], { interruptGraceMs: 20 });
    cleanups.push(next.close);
    await next.engine.start();
    const done = await next.engine.waitFor('pay', terminal);
    expect(done.status).toBe('FAILED');
    expect(charge.keys).toEqual(['pay:c:1']);
    const failure = (await next.store.readStream('run-pay')).find((e) => e.type === 'ToolCallFailed')?.data;
    expect(failure).toMatchObject({ failureMode: 'SYSTEM', retryable: false, error: { code: 'INTERRUPTED' } });
    expect(failure).not.toHaveProperty('retryAt');
    // An operator may resume it deliberately: that is a new attempt, with a new key.
    await next.api.resumeRun('pay', bob, 'checked with the payment provider');
    await next.engine.waitFor('pay', (s) => s.steps[0]?.attempts === 2);
    expect(charge.keys).toEqual(['pay:c:1', 'pay:c:2']);
    charge.release();
  });

  it('a call another live engine is running is left alone until it is overdue', async () => {
    const slow = hanging('slow', true);
    h = await engineHarness([slow.tool], { interruptGraceMs: 5_000 });
    await h.api.startRun({ runId: 'live', goal: 'x', profile: 'technical', steps: [step('s', 'slow')] }, alice);
    await h.engine.waitFor('live', (s) => s.steps[0]?.status === 'RUNNING');
    const other = restartedEngine(h, [slow.tool], { interruptGraceMs: 5_000 });
    cleanups.push(other.close);
    expect(await other.engine.start()).toEqual(['live']);
    slow.release();
    expect((await h.engine.waitFor('live', terminal)).status).toBe('SUCCEEDED');
    expect(slow.keys).toEqual(['live:s:1']);
    expect((await h.trace('live')).filter((t) => t.startsWith('ToolCallStarted'))).toHaveLength(1);
  });

  it('recovers from the persisted index: only unfinished runs, from its cursor on', async () => {
    const echo = defineTool({ name: 'echo', description: 'x', input: Any, domain: 'ops', action: { category: 'read', operation: 'read' }, idempotent: true, timeoutMs: 500, handler: () => 'ok' });
    const gated = defineTool({ ...echo, name: 'gated', approval: { eligibleRoles: ['tech_lead'] } });
    h = await engineHarness([echo, gated]);
    const indexPath = h.store.settings().path;
    const index = createSqliteRunIndex(indexPath);
    const first = restartedEngine(h, [echo, gated], { runIndex: index });
    await first.engine.start();
    for (let i = 0; i < 5; i++) await first.api.startRun({ runId: `done${i}`, goal: 'x', profile: 'technical', steps: [step('s', 'echo')] }, alice);
    await first.api.startRun({ runId: 'waiting', goal: 'x', profile: 'technical', steps: [step('g', 'gated')] }, alice);
    for (let i = 0; i < 5; i++) await first.engine.waitFor(`done${i}`, terminal);
    await first.close(); // saves the index
    expect(await index.load()).toEqual({ cursor: await h.store.headPosition(), active: ['waiting'] });
    await index.close();

    const again = restartedEngine(h, [echo, gated], { runIndex: createSqliteRunIndex(indexPath) });
    cleanups.push(again.close);
    expect(await again.engine.start()).toEqual(['waiting']);
    const waiting = await again.api.getRun('waiting');
    await again.api.grantApproval({ approvalId: waiting.steps[0]?.gate?.approvalId as string }, bob);
    expect((await again.engine.waitFor('waiting', terminal)).status).toBe('SUCCEEDED');
  });

  it('an API-only engine appends commands; the driving engine picks them up from the log', async () => {
    const echo = defineTool({ name: 'echo', description: 'x', input: Any, domain: 'ops', action: { category: 'read', operation: 'read' }, idempotent: true, timeoutMs: 500, handler: () => 'ok' });
    h = await engineHarness([echo]);
    await h.engine.start();
    const apiOnly = restartedEngine(h, [echo], { drive: false });
    cleanups.push(apiOnly.close);
    const started = await apiOnly.api.startRun({ runId: 'remote', goal: 'x', profile: 'technical', steps: [step('a', 'echo'), step('b', 'echo', ['a'])] }, alice);
    expect(started.steps.map((s) => s.status)).toEqual(['PENDING', 'PENDING']);
    expect((await h.engine.waitFor('remote', terminal)).status).toBe('SUCCEEDED');
    expect(await h.trace('remote')).toEqual(['RunStarted', 'PlanCreated', 'StepRouted(a)', 'ToolCallStarted(a)', 'ToolCallSucceeded(a)', 'StepRouted(b)', 'ToolCallStarted(b)', 'ToolCallSucceeded(b)', 'RunAggregated', 'RunCompleted']);
  });
});

describe('durable timers survive a restart', () => {
  it('a retry scheduled before the crash fires once after it', async () => {
    let calls = 0;
    const flaky = defineTool({
      name: 'flaky', description: 'x', input: Any, domain: 'ops', action: { category: 'read', operation: 'read' }, idempotent: true, timeoutMs: 500,
      retry: { baseDelayMs: 300, jitter: 0 },
      handler: () => { calls++; if (calls === 1) throw new ToolError('SYSTEM', 'first try fails'); return 'ok'; },
    });
    h = await engineHarness([flaky]);
    await h.api.startRun({ runId: 'tmr', goal: 'x', profile: 'technical', steps: [step('s', 'flaky')] }, alice);
    await h.engine.waitFor('tmr', (s) => s.steps[0]?.status === 'RETRY_WAIT');
    await h.engine.close();
    const next = restartedEngine(h, [flaky]);
    cleanups.push(next.close);
    await next.engine.start();
    expect((await next.engine.waitFor('tmr', terminal)).status).toBe('SUCCEEDED');
    expect(calls).toBe(2);
    expect((await h.trace('tmr')).filter((t) => t.startsWith('ToolCallStarted'))).toHaveLength(2);
  });

  it.each([
    ['deny', 'FAILED', 'denied'],
    ['approve', 'SUCCEEDED', 'approved'],
  ] as const)('an approval expiry is re-armed after a restart (onTimeout %s)', async (onTimeout, status, outcome) => {
    const gated = defineTool({
      name: 'gated', description: 'x', input: Any, domain: 'ops', action: { category: 'write', operation: 'write' }, idempotent: true, timeoutMs: 500,
      approval: { eligibleRoles: ['tech_lead'], timeoutMs: 200, onTimeout }, handler: () => 'ran',
    });
    h = await engineHarness([gated]);
    await h.api.startRun({ runId: 'exp', goal: 'x', profile: 'technical', errorStrategy: 'FAIL_FAST', steps: [step('g', 'gated')] }, alice);
    await h.engine.close();
    const next = restartedEngine(h, [gated]);
    cleanups.push(next.close);
    await next.engine.start();
    expect((await next.engine.waitFor('exp', terminal)).status).toBe(status);
    const expired = (await next.store.readStream('run-exp')).filter((e) => e.type === 'ApprovalExpired');
    expect(expired).toHaveLength(1);
    expect(expired[0]?.data).toMatchObject({ outcome });
  });

  it('a run deadline is re-armed after a restart', async () => {
    const slow = hanging('slow', true);
    h = await engineHarness([slow.tool]);
    await h.api.startRun({ runId: 'dl', goal: 'x', profile: 'technical', deadline: new Date(Date.now() + 300).toISOString(), steps: [step('s', 'slow', [], {})] }, alice);
    await h.engine.close();
    const waits = hanging('slow', true);
    const next = restartedEngine(h, [defineTool({ ...waits.tool, timeoutMs: 10_000 })], { interruptGraceMs: 60_000 });
    cleanups.push(next.close);
    await next.engine.start();
    const done = await next.engine.waitFor('dl', terminal);
    expect(done.failure).toMatchObject({ error: { code: 'DEADLINE' } });
  });
});

describe('secrets never reach the log', () => {
  it('resolves references at execution, redacts sensitive keys and scrubs secret values from outputs and errors', async () => {
    const values: Record<string, string> = { DB_PASSWORD: 'hunter2-very-secret', API_TOKEN: 'tok_live_9f8e7d6c5b' };
    const secrets: SecretProvider = { get: async (n) => values[n] };
    const login = defineTool({
      name: 'login', description: 'x', input: z.object({ user: z.string(), password: z.string() }), domain: 'ops', action: { category: 'read', operation: 'read' },
      idempotent: true, timeoutMs: 500,
      handler: (input) => ({ session: `session for ${input.user} using ${input.password}`, token: 'issued-token-abcdef', nested: [{ api_key: 'k-123456' }] }),
    });
    const leaky = defineTool({
      name: 'leaky', description: 'x', input: z.object({ auth: z.object({ $secret: z.string() }).or(z.string()) }), domain: 'ops', action: { category: 'read', operation: 'read' },
      idempotent: true, timeoutMs: 500,
      handler: (input) => { throw new ToolError('USER', `rejected credentials ${String(input.auth)}`); },
    });
    h = await engineHarness([login, leaky], { secrets });
    await h.api.startRun({ runId: 'sec', goal: 'x', profile: 'technical', errorStrategy: 'CONTINUE', steps: [
      step('in', 'login', [], { user: 'svc', password: { $secret: 'DB_PASSWORD' } }),
      step('bad', 'leaky', [], { auth: { $secret: 'API_TOKEN' } }),
      step('missing', 'login', [], { user: 'svc', password: { $secret: 'NOPE' } }),
    ] }, alice);
    const done = await h.settled('sec');
    expect(done.status).toBe('PARTIAL');
    expect(done.steps[0]?.output).toEqual({ session: 'session for svc using [REDACTED]', token: '[REDACTED]', nested: [{ api_key: '[REDACTED]' }] });
    const events = await h.store.readStream('run-sec');
    const started = events.find((e) => e.type === 'ToolCallStarted')?.data;
    expect(started).toMatchObject({ input: { user: 'svc', password: { $secret: 'DB_PASSWORD' } } });
    const failures = events.filter((e) => e.type === 'ToolCallFailed').map((e) => e.data as { stepId: string });
    failures.sort((a, b) => a.stepId.localeCompare(b.stepId));
    expect(failures).toMatchObject([
      { stepId: 'bad', error: { message: 'rejected credentials [REDACTED]' } },
      { stepId: 'missing', error: { code: 'SECRET_NOT_FOUND' } },
    ]);

    // A secret written as a value is refused at the door, and nothing is appended.
    const before = (await h.store.readAll()).length;
    await expect(h.api.startRun({ goal: 'x', profile: 'technical', steps: [step('l', 'login', [], { user: 'svc', password: 'plain-text-pw' })] }, alice)).rejects.toBeInstanceOf(ValidationError);
    expect((await h.store.readAll()).length).toBe(before);

    // Nothing of any secret in any byte of the database files.
    const dir = dirname(h.store.settings().path);
    const bytes = readdirSync(dir).map((f) => readFileSync(join(dir, f)).toString('latin1')).join('\n');
    for (const secret of [...Object.values(values), 'issued-token-abcdef', 'k-123456', 'plain-text-pw']) expect(bytes).not.toContain(secret);
    expect(bytes).toContain('DB_PASSWORD'); // the reference is kept: it names the secret, it does not hold it
  });
});

describe('graceful shutdown', () => {
  it('lets a call finish within the grace period; an idempotent call it stops stays claimed in the log and is re-claimed with the same key after restart, even under FAIL_FAST', async () => {
    let quickDone = false;
    const quick = defineTool({
      name: 'quick', description: 'x', input: Any, domain: 'ops', action: { category: 'read', operation: 'read' }, idempotent: true, timeoutMs: 5_000,
      handler: () => new Promise((r) => setTimeout(() => { quickDone = true; r('ok'); }, 50)),
    });
    const stuck = hanging('stuck', true);
    const stuckTool = defineTool({ ...stuck.tool, timeoutMs: 1_000 });
    h = await engineHarness([quick, stuckTool]);
    await h.api.startRun({ runId: 'sd', goal: 'x', profile: 'technical', errorStrategy: 'FAIL_FAST', steps: [step('q', 'quick'), step('s', 'stuck')] }, alice);
    await h.engine.waitFor('sd', (s) => s.steps.every((x) => x.status === 'RUNNING'));
    await h.engine.shutdown(300);
    expect(quickDone).toBe(true);
    // Nothing is recorded for the stopped idempotent call: the log says what a kill would leave.
    expect(await h.trace('sd')).toEqual(['RunStarted', 'PlanCreated', 'StepRouted(q)', 'StepRouted(s)', 'ToolCallStarted(q)', 'ToolCallStarted(s)', 'ToolCallSucceeded(q)']);

    const keys: string[] = [];
    const fixed = defineTool({ ...stuckTool, handler: (_i, ctx) => { keys.push(ctx.idempotencyKey); return 'finally'; } });
    const next = restartedEngine(h, [quick, fixed], { interruptGraceMs: 20 });
    cleanups.push(next.close);
    await next.engine.start();
    expect((await next.engine.waitFor('sd', terminal)).status).toBe('SUCCEEDED');
    expect(keys).toEqual(['sd:s:1']);
    const starts = (await next.store.readStream('run-sd')).filter((e) => e.type === 'ToolCallStarted' && (e.data as { stepId: string }).stepId === 's');
    expect(starts.map((e) => e.data)).toMatchObject([{ attempt: 1, idempotencyKey: 'sd:s:1' }, { attempt: 1, idempotencyKey: 'sd:s:1', recovered: true }]);
  });

  it('a non-idempotent call it stops is recorded INTERRUPTED and never repeated, even under RETRY', async () => {
    const pay = hanging('charge', false);
    h = await engineHarness([defineTool({ ...pay.tool, timeoutMs: 60_000 })]);
    await h.api.startRun({ runId: 'sdp', goal: 'x', profile: 'technical', errorStrategy: 'RETRY', steps: [step('c', 'charge')] }, alice);
    await h.engine.waitFor('sdp', (s) => s.steps[0]?.status === 'RUNNING');
    await h.engine.shutdown(50);
    const interrupted = (await h.store.readStream('run-sdp')).find((e) => e.type === 'ToolCallFailed')?.data;
    expect(interrupted).toMatchObject({ stepId: 'c', failureMode: 'SYSTEM', retryable: false, error: { code: 'INTERRUPTED' } });
    expect(interrupted).not.toHaveProperty('retryAt');

    const next = restartedEngine(h, [pay.tool], { interruptGraceMs: 20 });
    cleanups.push(next.close);
    await next.engine.start();
    expect((await next.engine.waitFor('sdp', terminal)).status).toBe('FAILED');
    expect(pay.keys).toEqual(['sdp:c:1']);
  });
});

describe('reconciliation', () => {
  it('a run whose wake-up was missed is moved on by reconcile(): re-read and decided again', async () => {
    const gatedTool = defineTool({ name: 'gated', description: 'x', input: Any, domain: 'ops', action: { category: 'write', operation: 'write' }, idempotent: true, timeoutMs: 500, approval: { eligibleRoles: ['tech_lead'] }, handler: () => 'ran' });
    h = await engineHarness([gatedTool]); // never start()ed: nothing follows the log, so nothing tells it
    const s = await h.api.startRun({ runId: 'missed', goal: 'x', profile: 'technical', steps: [step('g', 'gated')] }, alice);
    const other = restartedEngine(h, [gatedTool], { drive: false });
    cleanups.push(other.close);
    await other.api.grantApproval({ approvalId: s.steps[0]?.gate?.approvalId as string }, bob);
    expect((await h.engine.getState('missed')).steps[0]?.status).toBe('AWAITING_APPROVAL'); // its stale copy
    h.engine.reconcile('missed');
    expect((await h.engine.waitFor('missed', terminal)).status).toBe('SUCCEEDED');
  });
});

describe('wake-ups from other processes', () => {
  it('a refused command that re-reads the run takes in a grant made elsewhere, and the step still starts', async () => {
    const gatedTool = defineTool({ name: 'gated', description: 'x', input: Any, domain: 'ops', action: { category: 'write', operation: 'write' }, idempotent: true, timeoutMs: 500, approval: { eligibleRoles: ['tech_lead'] }, handler: () => 'ran' });
    // No reconciliation sweep: only the follower's wake-up may move the run on.
    h = await engineHarness([gatedTool], { reconcileEveryMs: 0 });
    await h.engine.start();
    const s = await h.api.startRun({ runId: 'regrant', goal: 'x', profile: 'technical', steps: [step('g', 'gated')] }, alice);
    const other = restartedEngine(h, [gatedTool], { drive: false });
    cleanups.push(other.close);
    await other.api.grantApproval({ approvalId: s.steps[0]?.gate?.approvalId as string }, bob);
    // The follower learns of the other connection's commit only at its next poll. Before that, a
    // command this engine refuses (it checks a refusal against the log) re-reads the run: the
    // engine now holds the grant, so when the follower sees it, it counts as already known.
    await expect(h.api.resumeRun('regrant', alice)).rejects.toThrow(/only a FAILED run can be resumed/);
    expect((await h.engine.waitFor('regrant', terminal, 2_000)).status).toBe('SUCCEEDED');
    expect(await h.trace('regrant')).toEqual(['RunStarted', 'PlanCreated', 'StepRouted(g)', 'ApprovalRequested(g)', 'ApprovalGranted(g)', 'ToolCallStarted(g)', 'ToolCallSucceeded(g)', 'RunAggregated', 'RunCompleted']);
  });
});
