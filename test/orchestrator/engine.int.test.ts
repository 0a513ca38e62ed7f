import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { IllegalStateError, UnauthorizedError, ValidationError } from '../../src/domain/errors.js';
import { defineTool, ToolError } from '../../src/orchestrator/tools/tool.js';
import { httpTool } from '../../src/orchestrator/tools/http-tool.js';
import { alice, bob, carol, type EngineHarness, engineHarness } from '../support/engine-harness.js';

const Any = z.record(z.string(), z.unknown());
const echo = defineTool({
  name: 'echo',
  description: 'returns its input',
  input: Any,
  domain: 'util',
  action: { category: 'read', operation: 'read' },
  idempotent: true,
  timeoutMs: 1_000,
  handler: (input) => ({ echoed: input }),
});
const fastRetry = { baseDelayMs: 5, maxDelayMs: 20, jitter: 0 };

/** A tool that fails `failures` times with `mode`, then succeeds; counts its calls. */
function flaky(name: string, failures: number, mode: 'AGENT' | 'USER' | 'SYSTEM' = 'AGENT') {
  const calls: string[] = [];
  const tool = defineTool({
    name,
    description: 'fails, then works',
    input: Any,
    domain: 'ops',
    action: { category: 'write', operation: 'write' },
    idempotent: true,
    timeoutMs: 1_000,
    retry: fastRetry,
    handler: (_input, ctx) => {
      calls.push(ctx.idempotencyKey);
      if (calls.length <= failures) throw new ToolError(mode, `failure ${calls.length}`);
      return { ok: true };
    },
  });
  return { tool, calls };
}

const step = (id: string, tool: string, dependsOn: string[] = [], input: Record<string, unknown> = {}) => ({
  id,
  tool,
  input,
  domain: tool === 'echo' ? 'util' : 'ops',
  dependsOn,
});

let h: EngineHarness;
afterEach(async () => {
  expect(h.errors).toEqual([]);
  await h.close();
});

describe('the run engine on SQLite', () => {
  it('runs a linear plan: the exact event sequence, outputs aggregated', async () => {
    h = await engineHarness([echo]);
    const started = await h.api.startRun(
      { runId: 'lin', goal: 'three in a row', profile: 'technical', steps: [step('a', 'echo', [], { n: 1 }), step('b', 'echo', ['a']), step('c', 'echo', ['b'])] },
      alice,
    );
    expect(started.status).toBe('RUNNING');
    const done = await h.settled('lin');
    expect(done.status).toBe('SUCCEEDED');
    expect(await h.trace('lin')).toEqual([
      'RunStarted', 'PlanCreated', 'StepRouted(a)', 'ToolCallStarted(a)',
      'ToolCallSucceeded(a)', 'StepRouted(b)', 'ToolCallStarted(b)',
      'ToolCallSucceeded(b)', 'StepRouted(c)', 'ToolCallStarted(c)',
      'ToolCallSucceeded(c)', 'RunAggregated', 'RunCompleted',
    ]);
    const events = await h.store.readStream('run-lin');
    const aggregated = events.find((e) => e.type === 'RunAggregated');
    expect(aggregated?.data).toMatchObject({ outputs: { a: { echoed: { n: 1 } }, b: { echoed: {} } }, completedSteps: ['a', 'b', 'c'] });
    const startedA = events.find((e) => e.type === 'ToolCallStarted')?.data;
    expect(startedA).toMatchObject({ stepId: 'a', attempt: 1, idempotencyKey: 'lin:a:1', worker: 'local', input: { n: 1 } });
    const routed = events.find((e) => e.type === 'StepRouted')?.data;
    expect(routed).toMatchObject({ policy: 'least_loaded', worker: 'local' });
    expect(events.every((e) => e.metadata.correlationId === 'lin')).toBe(true);
    expect(events[0]?.metadata.actor).toBe('user:alice');
  });

  it('runs independent branches of a DAG in parallel, up to maxParallel', async () => {
    let inFlight = 0;
    let peak = 0;
    const slow = defineTool({
      name: 'slow', description: 'waits', input: Any, domain: 'ops', action: { category: 'read', operation: 'read' },
      idempotent: true, timeoutMs: 2_000,
      handler: async () => {
        peak = Math.max(peak, ++inFlight);
        await new Promise((r) => setTimeout(r, 30));
        inFlight--;
        return 'ok';
      },
    });
    h = await engineHarness([slow]);
    await h.api.startRun(
      { runId: 'dag', goal: 'fan out', profile: 'technical', maxParallel: 2, steps: [step('root', 'slow'), step('x', 'slow', ['root']), step('y', 'slow', ['root']), step('z', 'slow', ['root']), step('join', 'slow', ['x', 'y', 'z'])] },
      alice,
    );
    expect((await h.settled('dag')).status).toBe('SUCCEEDED');
    expect(peak).toBe(2);
    const trace = await h.trace('dag');
    // After root, two branches start in the same append, before either result.
    const rootDone = trace.indexOf('ToolCallSucceeded(root)');
    expect(trace.slice(rootDone + 1, rootDone + 6)).toEqual(['StepRouted(x)', 'StepRouted(y)', 'StepRouted(z)', 'ToolCallStarted(x)', 'ToolCallStarted(y)']);
    expect(trace.indexOf('ToolCallStarted(z)')).toBeGreaterThan(rootDone + 6);
    expect(trace.indexOf('ToolCallStarted(join)')).toBeGreaterThan(trace.lastIndexOf('ToolCallSucceeded(z)'));
  });

  it('retries a retryable failure with backoff, then succeeds (RETRY)', async () => {
    const { tool, calls } = flaky('flaky', 2);
    h = await engineHarness([tool]);
    await h.api.startRun({ runId: 'rt', goal: 'retry', profile: 'technical', steps: [step('s', 'flaky')] }, alice);
    expect((await h.settled('rt')).status).toBe('SUCCEEDED');
    expect(calls).toEqual(['rt:s:1', 'rt:s:2', 'rt:s:3']);
    expect(await h.trace('rt')).toEqual([
      'RunStarted', 'PlanCreated', 'StepRouted(s)', 'ToolCallStarted(s)', 'ToolCallFailed(s)',
      'ToolCallStarted(s)', 'ToolCallFailed(s)', 'ToolCallStarted(s)', 'ToolCallSucceeded(s)', 'RunAggregated', 'RunCompleted',
    ]);
    const events = await h.store.readStream('run-rt');
    const starts = events.filter((e) => e.type === 'ToolCallStarted').map((e) => Date.parse((e.data as { startedAt: string }).startedAt));
    const failures = events.filter((e) => e.type === 'ToolCallFailed').map((e) => e.data as { retryAt: string; failureMode: string; retryable: boolean });
    for (const [i, f] of failures.entries()) {
      expect(f).toMatchObject({ failureMode: 'AGENT', retryable: true });
      // base 5 ms, factor 2, no jitter: the retry is due at least 5 then 10 ms after the attempt
      // started, and the next attempt never starts before it is due.
      expect(Date.parse(f.retryAt) - (starts[i] as number)).toBeGreaterThanOrEqual(5 << i);
      expect(starts[i + 1] as number).toBeGreaterThanOrEqual(Date.parse(f.retryAt));
    }
  });

  it('FAIL_FAST: the first failure fails the run, no retry, with a partial result', async () => {
    const { tool, calls } = flaky('flaky', 5);
    h = await engineHarness([echo, tool]);
    await h.api.startRun({ runId: 'ff', goal: 'x', profile: 'technical', errorStrategy: 'FAIL_FAST', steps: [step('a', 'echo'), step('b', 'flaky', ['a']), step('c', 'echo', ['b'])] }, alice);
    const s = await h.settled('ff');
    expect(s.status).toBe('FAILED');
    expect(calls).toHaveLength(1);
    expect(await h.trace('ff')).toEqual([
      'RunStarted', 'PlanCreated', 'StepRouted(a)', 'ToolCallStarted(a)', 'ToolCallSucceeded(a)',
      'StepRouted(b)', 'ToolCallStarted(b)', 'ToolCallFailed(b)', 'RunFailed',
    ]);
    const failed = (await h.store.readStream('run-ff')).at(-1)?.data;
    expect(failed).toMatchObject({
      stage: 'EXECUTE', failureMode: 'AGENT', error: { message: 'failure 1' },
      partialResult: { completedSteps: [{ stepId: 'a', output: { echoed: {} } }], failedStep: 'b', remainingSteps: ['b', 'c'] },
    });
  });

  it('RETRY: retries until attempts run out, then fails; resumeRun continues from the failed step', async () => {
    const { tool, calls } = flaky('flaky', 3);
    h = await engineHarness([echo, tool]);
    await h.api.startRun({ runId: 're', goal: 'x', profile: 'technical', errorStrategy: 'RETRY', steps: [step('a', 'echo'), step('b', 'flaky', ['a'])] }, alice);
    expect((await h.settled('re')).status).toBe('FAILED');
    expect(calls).toEqual(['re:b:1', 're:b:2', 're:b:3']);
    expect((await h.trace('re')).slice(-2)).toEqual(['ToolCallFailed(b)', 'RunFailed']);
    const lastFailure = (await h.store.readStream('run-re')).filter((e) => e.type === 'ToolCallFailed').at(-1)?.data;
    expect(lastFailure).toMatchObject({ retryable: true, attempt: 3 });
    expect(lastFailure).not.toHaveProperty('retryAt');

    await h.api.resumeRun('re', bob, 'flake fixed');
    const resumed = await h.settled('re');
    expect(resumed.status).toBe('SUCCEEDED');
    expect(calls).toEqual(['re:b:1', 're:b:2', 're:b:3', 're:b:4']);
    const trace = await h.trace('re');
    expect(trace.slice(trace.indexOf('RunResumed'))).toEqual(['RunResumed', 'StepRouted(b)', 'ToolCallStarted(b)', 'ToolCallSucceeded(b)', 'RunAggregated', 'RunCompleted']);
    // Step a ran once, and is never run again by the resume.
    expect(trace.filter((t) => t === 'ToolCallStarted(a)')).toHaveLength(1);
  });

  it('CONTINUE: skips the failed step and its dependents, completes PARTIAL', async () => {
    const { tool } = flaky('flaky', 99);
    h = await engineHarness([echo, tool]);
    await h.api.startRun(
      { runId: 'co', goal: 'x', profile: 'technical', errorStrategy: 'CONTINUE', steps: [step('bad', 'flaky'), step('after', 'echo', ['bad']), step('after2', 'echo', ['after']), step('free', 'echo')] },
      alice,
    );
    const s = await h.settled('co');
    expect(s.status).toBe('PARTIAL');
    const trace = await h.trace('co');
    expect(trace.filter((t) => t.startsWith('ToolCallStarted(bad)'))).toHaveLength(3);
    expect(trace).toContain('StepSkipped(after)');
    expect(trace).toContain('StepSkipped(after2)');
    expect(trace.slice(-2)).toEqual(['RunAggregated', 'RunCompleted']);
    const events = await h.store.readStream('run-co');
    expect(events.find((e) => e.type === 'StepSkipped' && (e.data as { stepId: string }).stepId === 'after2')?.data).toMatchObject({ becauseOf: 'after' });
    expect(events.find((e) => e.type === 'RunAggregated')?.data).toMatchObject({ completedSteps: ['free'], failedSteps: ['bad'], skippedSteps: ['after', 'after2'] });
    expect(events.at(-1)?.data).toEqual({ status: 'PARTIAL' });
  });

  it('a USER failure is not retried under RETRY', async () => {
    const { tool, calls } = flaky('flaky', 1, 'USER');
    h = await engineHarness([tool]);
    await h.api.startRun({ runId: 'us', goal: 'x', profile: 'technical', errorStrategy: 'RETRY', steps: [step('s', 'flaky')] }, alice);
    expect((await h.settled('us')).status).toBe('FAILED');
    expect(calls).toHaveLength(1);
  });

  it('budgets: a warning at 80 %, then warn-and-continue', async () => {
    h = await engineHarness([echo]);
    const steps = Array.from({ length: 6 }, (_, i) => step(`s${i}`, 'echo', i ? [`s${i - 1}`] : []));
    await h.api.startRun({ runId: 'bw', goal: 'x', profile: 'technical', budget: { totalCalls: 5, onExceed: 'warn' }, steps }, alice);
    expect((await h.settled('bw')).status).toBe('SUCCEEDED');
    const trace = await h.trace('bw');
    expect(trace.filter((t) => t.startsWith('Budget'))).toEqual(['BudgetWarning', 'BudgetExceeded(s5)']);
    expect(trace.indexOf('BudgetWarning')).toBe(trace.indexOf('ToolCallStarted(s3)') - 1);
    const events = await h.store.readStream('run-bw');
    expect(events.find((e) => e.type === 'BudgetWarning')?.data).toEqual({ scope: { kind: 'total' }, used: 4, limit: 5, percent: 80 });
    expect(events.find((e) => e.type === 'BudgetExceeded')?.data).toMatchObject({ action: 'warn', used: 6, limit: 5 });
  });

  it('budgets: block fails the step with POLICY before the call, per tool', async () => {
    h = await engineHarness([echo]);
    const steps = Array.from({ length: 3 }, (_, i) => step(`s${i}`, 'echo', i ? [`s${i - 1}`] : []));
    await h.api.startRun({ runId: 'bb', goal: 'x', profile: 'technical', budget: { perTool: { echo: 2 }, onExceed: 'block' }, steps }, alice);
    expect((await h.settled('bb')).status).toBe('FAILED');
    const trace = await h.trace('bb');
    expect(trace.slice(-4)).toEqual(['StepRouted(s2)', 'BudgetExceeded(s2)', 'ToolCallFailed(s2)', 'RunFailed']);
    expect(trace.filter((t) => t === 'ToolCallStarted(s2)')).toHaveLength(0);
    const failed = (await h.store.readStream('run-bb')).find((e) => e.type === 'ToolCallFailed')?.data;
    expect(failed).toMatchObject({ failureMode: 'POLICY', retryable: false, error: { code: 'BUDGET_EXCEEDED' } });
  });

  it('a call over its timeout fails with RESOURCE and its signal is aborted', async () => {
    let aborted = false;
    const hang = defineTool({
      name: 'hang', description: 'never answers', input: Any, domain: 'ops', action: { category: 'read', operation: 'read' },
      idempotent: true, timeoutMs: 50,
      handler: (_i, ctx) => new Promise(() => ctx.signal.addEventListener('abort', () => { aborted = true; })),
    });
    h = await engineHarness([hang]);
    await h.api.startRun({ runId: 'to', goal: 'x', profile: 'technical', errorStrategy: 'FAIL_FAST', steps: [step('s', 'hang')] }, alice);
    expect((await h.settled('to')).status).toBe('FAILED');
    expect(aborted).toBe(true);
    const failed = (await h.store.readStream('run-to')).find((e) => e.type === 'ToolCallFailed')?.data;
    expect(failed).toMatchObject({ failureMode: 'RESOURCE', error: { code: 'TIMEOUT' } });
  });

  it('cancelRun aborts a slow tool; its late result is recorded but does not revive the run', async () => {
    let signal: AbortSignal | undefined;
    let finish: (() => void) | undefined;
    const slow = defineTool({
      name: 'slow', description: 'slow, ignores abort', input: Any, domain: 'ops', action: { category: 'read', operation: 'read' },
      idempotent: true, timeoutMs: 10_000,
      handler: (_i, ctx) => {
        signal = ctx.signal;
        return new Promise((resolve) => { finish = () => resolve('late'); });
      },
    });
    h = await engineHarness([echo, slow]);
    await h.api.startRun({ runId: 'cx', goal: 'x', profile: 'technical', steps: [step('s', 'slow'), step('t', 'echo', ['s'])] }, alice);
    await h.engine.waitFor('cx', (s) => s.steps[0]?.status === 'RUNNING');
    const cancelled = await h.api.cancelRun('cx', alice, 'changed my mind');
    expect(cancelled.status).toBe('CANCELLED');
    expect(signal?.aborted).toBe(true);
    finish?.();
    await h.engine.waitFor('cx', (s) => s.steps[0]?.status === 'SUCCEEDED');
    expect(await h.trace('cx')).toEqual(['RunStarted', 'PlanCreated', 'StepRouted(s)', 'ToolCallStarted(s)', 'RunCancelled', 'ToolCallSucceeded(s)']);
    expect((await h.api.getRun('cx')).status).toBe('CANCELLED');
    await expect(h.api.cancelRun('cx', alice)).rejects.toBeInstanceOf(IllegalStateError);
  });

  it('a run past its deadline fails with RESOURCE', async () => {
    const slow = defineTool({
      name: 'slow', description: 'waits', input: Any, domain: 'ops', action: { category: 'read', operation: 'read' },
      idempotent: true, timeoutMs: 10_000, handler: (_i, ctx) => new Promise((r) => ctx.signal.addEventListener('abort', () => r('stopped'))),
    });
    h = await engineHarness([slow]);
    await h.api.startRun({ runId: 'dl', goal: 'x', profile: 'technical', deadline: new Date(Date.now() + 80).toISOString(), steps: [step('s', 'slow')] }, alice);
    const s = await h.settled('dl');
    expect(s.status).toBe('FAILED');
    const failed = (await h.store.readStream('run-dl')).find((e) => e.type === 'RunFailed')?.data;
    expect(failed).toMatchObject({ failureMode: 'RESOURCE', error: { code: 'DEADLINE' } });
  });

  it('a run waits at an approval gate and continues when granted; the rules hold', async () => {
    const deploy = defineTool({
      name: 'deploy', description: 'deploys', input: z.object({ env: z.string(), version: z.string() }), domain: 'ops',
      action: { category: 'deploy', operation: 'release', environment: (i) => String(i.env) },
      idempotent: false, timeoutMs: 1_000, approval: { eligibleRoles: ['tech_lead', 'devops_engineer'] },
      handler: (input) => ({ deployed: input.version, to: input.env }),
    });
    h = await engineHarness([deploy]);
    await h.api.startRun({ runId: 'gate', goal: 'ship', profile: 'technical', steps: [step('d', 'deploy', [], { env: 'prod', version: '1.0' })] }, alice);
    const waiting = await h.api.getRun('gate');
    expect(waiting.steps[0]?.status).toBe('AWAITING_APPROVAL');
    const approvalId = waiting.steps[0]?.gate?.approvalId as string;
    expect(await h.trace('gate')).toEqual(['RunStarted', 'PlanCreated', 'StepRouted(d)', 'ApprovalRequested(d)']);

    const before = (await h.store.readAll()).length;
    await expect(h.api.grantApproval({ approvalId }, alice)).rejects.toBeInstanceOf(UnauthorizedError); // own request
    await expect(h.api.grantApproval({ approvalId }, { id: 'dave', role: 'developer' })).rejects.toBeInstanceOf(UnauthorizedError);
    await expect(h.api.grantApproval({ approvalId, editedInput: { env: 'prod' } }, bob)).rejects.toBeInstanceOf(ValidationError);
    expect((await h.store.readAll()).length).toBe(before);

    await h.api.grantApproval({ approvalId, justification: 'release train', editedInput: { env: 'staging', version: '1.0' } }, bob);
    expect((await h.settled('gate')).status).toBe('SUCCEEDED');
    const events = await h.store.readStream('run-gate');
    expect(events.map((e) => e.type).slice(4)).toEqual(['ApprovalGranted', 'ToolCallStarted', 'ToolCallSucceeded', 'RunAggregated', 'RunCompleted']);
    expect(events[4]?.metadata.actor).toBe('user:bob');
    expect(events[5]?.data).toMatchObject({ input: { env: 'staging', version: '1.0' } });
    expect(events[6]?.data).toMatchObject({ output: { deployed: '1.0', to: 'staging' } });
    await expect(h.api.grantApproval({ approvalId }, carol)).rejects.toBeInstanceOf(IllegalStateError);
  });

  it('a denial fails the step with POLICY', async () => {
    const risky = defineTool({
      name: 'risky', description: 'x', input: Any, domain: 'ops', action: { category: 'db', operation: 'delete' },
      idempotent: false, timeoutMs: 1_000, approval: { eligibleRoles: ['devops_engineer'] }, handler: () => 'done',
    });
    h = await engineHarness([risky]);
    const s = await h.api.startRun({ runId: 'den', goal: 'x', profile: 'technical', errorStrategy: 'FAIL_FAST', steps: [step('r', 'risky')] }, alice);
    await h.api.denyApproval({ approvalId: s.steps[0]?.gate?.approvalId as string, justification: 'no' }, carol);
    const done = await h.settled('den');
    expect(done.status).toBe('FAILED');
    expect(done.failure).toMatchObject({ failureMode: 'POLICY', error: { code: 'APPROVAL_DENIED' } });
    expect((await h.trace('den')).slice(-2)).toEqual(['ApprovalDenied(r)', 'RunFailed']);
  });

  it('an HTTP tool against a local server: 2xx output, 4xx USER (no retry), 5xx SYSTEM (retried)', async () => {
    const seen: Array<{ status: number; key: string | undefined }> = [];
    let failNext = 1;
    const server: Server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => { body += c.toString(); });
      req.on('end', () => {
        const payload = JSON.parse(body) as { input: { mode: string }; idempotencyKey: string };
        const key = req.headers['idempotency-key'] as string | undefined;
        expect(payload.idempotencyKey).toBe(key);
        let status = 200;
        if (payload.input.mode === 'bad') status = 422;
        else if (payload.input.mode === 'flaky' && failNext-- > 0) status = 503;
        seen.push({ status, key });
        res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(status === 200 ? { ran: payload.input.mode } : { error: 'nope' }));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/tools/remote`;
      const remote = httpTool({ name: 'remote', description: 'remote', url, input: z.object({ mode: z.string() }), domain: 'ops', action: { category: 'read', operation: 'read' }, idempotent: true, timeoutMs: 2_000, retry: fastRetry });
      h = await engineHarness([remote]);
      await h.api.startRun({ runId: 'http1', goal: 'x', profile: 'technical', steps: [step('ok', 'remote', [], { mode: 'fine' }), step('fl', 'remote', ['ok'], { mode: 'flaky' })] }, alice);
      expect((await h.settled('http1')).status).toBe('SUCCEEDED');
      await h.api.startRun({ runId: 'http2', goal: 'x', profile: 'technical', errorStrategy: 'RETRY', steps: [step('bad', 'remote', [], { mode: 'bad' })] }, alice);
      expect((await h.settled('http2')).status).toBe('FAILED');
      expect(seen).toEqual([
        { status: 200, key: 'http1:ok:1' },
        { status: 503, key: 'http1:fl:1' },
        { status: 200, key: 'http1:fl:2' },
        { status: 422, key: 'http2:bad:1' },
      ]);
      const events = [...(await h.store.readStream('run-http1')), ...(await h.store.readStream('run-http2'))];
      const failures = events.filter((e) => e.type === 'ToolCallFailed').map((e) => e.data);
      expect(failures).toMatchObject([{ failureMode: 'SYSTEM', retryable: true, error: { code: 'HTTP_503' } }, { failureMode: 'USER', retryable: false, error: { code: 'HTTP_422' } }]);
      expect(events.find((e) => e.type === 'RunAggregated')?.data).toMatchObject({ outputs: { ok: { ran: 'fine' }, fl: { ran: 'flaky' } } });
    } finally {
      await new Promise((r) => server.close(r));
    }
  });

  it('an HTTP tool whose server is unreachable fails with SYSTEM', async () => {
    const remote = httpTool({ name: 'remote', description: 'x', url: 'http://127.0.0.1:9/nothing', input: Any, domain: 'ops', action: { category: 'read', operation: 'read' }, idempotent: true, timeoutMs: 2_000 });
    h = await engineHarness([remote]);
    await h.api.startRun({ runId: 'net', goal: 'x', profile: 'technical', errorStrategy: 'FAIL_FAST', steps: [step('s', 'remote')] }, alice);
    expect((await h.settled('net')).failure).toMatchObject({ failureMode: 'SYSTEM', error: { code: 'NETWORK' } });
  });

  it('policy failures are recorded, not crashes: disallowed tool, no capable worker (an unknown tool is refused at startRun: test/security)', async () => {
    const tagged = defineTool({ ...echo, name: 'gpu-job', tags: ['gpu'] });
    const forbidden = defineTool({ ...echo, name: 'drop-table' });
    h = await engineHarness([echo, tagged, forbidden], {
      profiles: {
        narrow: { name: 'narrow', allowedTools: ['gpu-*', 'echo'], budget: { perDomain: {}, perTool: {}, onExceed: 'block' }, errorStrategy: 'CONTINUE', maxParallel: 4, routing: 'capability' },
      },
    });
    await h.api.startRun({ runId: 'pol', goal: 'x', profile: 'narrow', steps: [step('g', 'gpu-job'), step('f', 'drop-table'), step('e', 'echo')] }, alice);
    expect((await h.settled('pol')).status).toBe('PARTIAL');
    const failures = (await h.store.readStream('run-pol')).filter((e) => e.type === 'ToolCallFailed').map((e) => e.data);
    expect(failures).toMatchObject([
      { stepId: 'g', failureMode: 'POLICY', error: { code: 'NO_CAPABLE_WORKER' } },
      { stepId: 'f', failureMode: 'POLICY', error: { code: 'TOOL_NOT_ALLOWED' } },
    ]);
  });

  it('refuses a bad plan at startRun and appends nothing', async () => {
    h = await engineHarness([echo]);
    const cases = [
      { steps: [step('a', 'echo', ['b']), step('b', 'echo', ['a'])], message: /cycle: (a -> b -> a|b -> a -> b)/ },
      { steps: [step('a', 'echo', ['ghost'])], message: /depends on "ghost"/ },
      { steps: [step('a', 'echo'), step('a', 'echo')], message: /two steps with id "a"/ },
      { steps: [], message: /steps/ },
    ];
    for (const c of cases) {
      await expect(h.api.startRun({ runId: 'bad', goal: 'x', profile: 'technical', steps: c.steps }, alice)).rejects.toThrow(c.message);
    }
    await expect(h.api.startRun({ goal: 'x', profile: 'nobody', steps: [step('a', 'echo')] }, alice)).rejects.toThrow(/unknown profile/);
    await expect(h.api.startRun({ goal: '', profile: 'technical', steps: [step('a', 'echo')] }, alice)).rejects.toBeInstanceOf(ValidationError);
    expect(await h.store.readAll()).toEqual([]);
  });

  it('a playbook expands its parameters; an idempotency key returns the same run', async () => {
    h = await engineHarness([echo], {
      playbooks: [{ name: 'greet', description: '', params: ['who'], steps: [{ id: 'hi', tool: 'echo', input: { text: 'hello {{who}}' }, domain: 'util', dependsOn: [] }] }],
    });
    const first = await h.api.startRun({ goal: 'greet', profile: 'technical', playbook: { name: 'greet', params: { who: 'world' } }, idempotencyKey: 'k1' }, alice);
    const again = await h.api.startRun({ goal: 'greet', profile: 'technical', playbook: { name: 'greet', params: { who: 'world' } }, idempotencyKey: 'k1' }, alice);
    expect(again.runId).toBe(first.runId);
    const done = await h.settled(first.runId);
    expect(done.steps[0]?.output).toEqual({ echoed: { text: 'hello world' } });
    expect((await h.store.readAll({ filter: { eventTypes: ['RunStarted'] } })).length).toBe(1);
    await expect(h.api.startRun({ goal: 'x', profile: 'technical', playbook: { name: 'greet', params: {} } }, alice)).rejects.toThrow(/needs parameter/);
  });
});

describe('two engines on one SQLite file', () => {
  it('racing approvals on one run: exactly the quorum is recorded and the tool runs once', async () => {
    const { createSqliteEventStore } = await import('../../src/adapters/eventstore/sqlite/sqlite-event-store.js');
    const { RunEngine } = await import('../../src/orchestrator/engine.js');
    const { Orchestrator } = await import('../../src/orchestrator/api.js');
    const { ToolRegistry } = await import('../../src/orchestrator/tools/tool.js');
    const executed: string[] = [];
    const guarded = defineTool({
      name: 'guarded', description: 'x', input: Any, domain: 'ops', action: { category: 'db', operation: 'delete' },
      idempotent: false, timeoutMs: 1_000, approval: { eligibleRoles: ['devops_engineer'], requiredApprovals: 2 },
      handler: (_i, ctx) => { executed.push(ctx.idempotencyKey); return 'done'; },
    });
    h = await engineHarness([guarded]);
    const second = createSqliteEventStore({ path: h.store.settings().path });
    const tools = new ToolRegistry([guarded]);
    const engine2 = new RunEngine({ store: second, tools, onError: (e) => h.errors.push(e) });
    const api2 = new Orchestrator({ engine: engine2, tools });
    try {
      const s = await h.api.startRun({ runId: 'race', goal: 'x', profile: 'technical', steps: [step('g', 'guarded')] }, alice);
      const approvalId = s.steps[0]?.gate?.approvalId as string;
      const voters = Array.from({ length: 10 }, (_, i) => ({ id: `ops${i}`, role: 'devops_engineer' }));
      const results = await Promise.allSettled(voters.map((v, i) => (i % 2 ? api2 : h.api).grantApproval({ approvalId }, v)));
      const ok = results.filter((r) => r.status === 'fulfilled');
      expect(ok).toHaveLength(2);
      for (const r of results.filter((x) => x.status === 'rejected')) expect((r as PromiseRejectedResult).reason).toBeInstanceOf(IllegalStateError);
      const done = await h.engine.waitFor('race', (st) => st.status === 'SUCCEEDED').catch(() => engine2.waitFor('race', (st) => st.status === 'SUCCEEDED'));
      expect(done.status).toBe('SUCCEEDED');
      const trace = await h.trace('race');
      expect(trace.filter((t) => t.startsWith('ApprovalGranted'))).toHaveLength(2);
      expect(trace.filter((t) => t.startsWith('ToolCallStarted'))).toHaveLength(1);
      expect(executed).toEqual(['race:g:1']);
    } finally {
      await engine2.close();
      await second.close();
    }
  });
});
