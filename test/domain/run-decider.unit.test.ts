import { describe, expect, it } from 'vitest';
import { DomainError } from '../../src/domain/errors.js';
import type { RunEvent } from '../../src/domain/events/index.js';
import type { GrantApproval, RecordAutomatedDecision, RunCommand } from '../../src/domain/run/commands.js';
import { decide } from '../../src/domain/run/decide.js';
import { foldRun } from '../../src/domain/run/evolve.js';
import { nextActions } from '../../src/domain/run/next-actions.js';
import { defaultRetryPolicy } from '../../src/domain/run/retry.js';
import { initialRunState, type RunState } from '../../src/domain/run/state.js';

// Given / when / then: the decider's whole contract, with no store and no engine.
const given = (...events: RunEvent[]) => {
  const state = foldRun(events, initialRunState());
  return {
    state,
    when: (command: RunCommand) => ({
      then: (expected: RunEvent[]) => expect(decide(command, state)).toEqual(expected),
      thenError: (code: DomainError['code'], message?: RegExp) => {
        let error: unknown;
        try {
          decide(command, state);
        } catch (e) {
          error = e;
        }
        expect(error).toBeInstanceOf(DomainError);
        expect((error as DomainError).code).toBe(code);
        if (message) expect((error as Error).message).toMatch(message);
      },
    }),
  };
};

const alice = { id: 'alice', role: 'developer' };
const bob = { id: 'bob', role: 'tech_lead' };
const carol = { id: 'carol', role: 'devops_engineer' };
const T0 = '2026-01-01T00:00:00.000Z';
const T1 = '2026-01-01T00:00:01.000Z';

const started = (over: Partial<Extract<RunEvent, { type: 'RunStarted' }>['data']> = {}): RunEvent => ({
  type: 'RunStarted',
  data: { runId: 'r', goal: 'g', profile: 'technical', requestedBy: alice, errorStrategy: 'RETRY', budget: { perDomain: {}, perTool: {}, onExceed: 'block' }, maxParallel: 2, ...over },
});
const plan = (...steps: Array<[string, string[]?]>): RunEvent => ({
  type: 'PlanCreated',
  data: { steps: steps.map(([id, dependsOn = []]) => ({ id, tool: 'echo', input: { id }, domain: 'util', dependsOn })) },
});
const routed = (stepId: string): RunEvent => ({ type: 'StepRouted', data: { stepId, worker: 'w1', policy: 'capability', reasoning: 'only one', alternatives: [] } });
const callStarted = (stepId: string, attempt = 1): RunEvent => ({
  type: 'ToolCallStarted',
  data: { stepId, tool: 'echo', worker: 'w1', attempt, idempotencyKey: `r:${stepId}:${attempt}`, input: { id: stepId }, timeoutMs: 1000, startedAt: T0 },
});
const succeeded = (stepId: string, attempt = 1): RunEvent => ({ type: 'ToolCallSucceeded', data: { stepId, attempt, output: { ok: stepId }, durationMs: 1 } });
const failed = (stepId: string, attempt = 1, retryAt?: string): RunEvent => ({
  type: 'ToolCallFailed',
  data: { stepId, attempt, error: { message: 'boom' }, failureMode: 'AGENT', retryable: true, ...(retryAt ? { retryAt } : {}), durationMs: 1 },
});
const gate = (stepId: string, over: Record<string, unknown> = {}): RunEvent => ({
  type: 'ApprovalRequested',
  data: {
    approvalId: `r/${stepId}/1`, stepId, risk: { level: 'high', score: 70, factors: [] }, confidence: { score: 50, adjustments: [] },
    reviewLevel: 'FULL', requiredApprovals: 1, eligibleRoles: ['tech_lead', 'devops_engineer'], justificationRequired: false,
    requester: alice, expiresAt: '2026-01-01T01:00:00.000Z', onTimeout: 'deny', priority: 'normal', input: { id: stepId }, ...over,
  } as never,
});
const startRun = (steps: Array<{ id: string; dependsOn?: string[] }>): RunCommand => ({
  type: 'StartRun', runId: 'r', goal: 'g', profile: 'technical', requestedBy: alice, errorStrategy: 'RETRY', budget: {}, maxParallel: 2,
  steps: steps.map((s) => ({ id: s.id, tool: 'echo', input: { id: s.id }, domain: 'util', dependsOn: s.dependsOn })),
});
const result = (stepId: string, attempt: number, ok: boolean, mode: 'AGENT' | 'USER' = 'AGENT'): RunCommand => ({
  type: 'RecordToolResult', stepId, attempt, now: T0, random: 0.5, retry: { ...defaultRetryPolicy, baseDelayMs: 1000, jitter: 0 },
  outcome: ok ? { ok: true, output: { done: true }, durationMs: 3 } : { ok: false, error: { message: 'nope' }, failureMode: mode, durationMs: 3 },
});

describe('StartRun', () => {
  it('records RunStarted and PlanCreated, with budget defaults', () => {
    const events = decide(startRun([{ id: 'a' }, { id: 'b', dependsOn: ['a'] }]), initialRunState());
    expect(events.map((e) => e.type)).toEqual(['RunStarted', 'PlanCreated']);
    expect(events[0]?.data).toMatchObject({ budget: { perDomain: {}, perTool: {}, onExceed: 'block' } });
    expect(events[1]?.data).toEqual({ steps: [{ id: 'a', tool: 'echo', input: { id: 'a' }, domain: 'util', dependsOn: [] }, { id: 'b', tool: 'echo', input: { id: 'b' }, domain: 'util', dependsOn: ['a'] }] });
  });
  it('refuses a cycle, a dangling dependency, a duplicate id, and a second start', () => {
    given().when(startRun([{ id: 'a', dependsOn: ['c'] }, { id: 'b', dependsOn: ['a'] }, { id: 'c', dependsOn: ['b'] }])).thenError('VALIDATION', /cycle: a -> c -> b -> a/);
    given().when(startRun([{ id: 'a', dependsOn: ['zz'] }])).thenError('VALIDATION', /"zz"/);
    given().when(startRun([{ id: 'a' }, { id: 'a' }])).thenError('VALIDATION', /two steps/);
    given().when(startRun([{ id: 'a', dependsOn: ['a'] }])).thenError('VALIDATION', /itself/);
    given(started(), plan(['a'])).when(startRun([{ id: 'a' }])).thenError('ILLEGAL_STATE', /already exists/);
  });
});

describe('RouteStep and RejectStep', () => {
  const route: RunCommand = { type: 'RouteStep', stepId: 'a', routing: { worker: 'w1', policy: 'capability', reasoning: 'x', alternatives: [] } };
  it('routes a ready step; with an approval it opens the gate', () => {
    given(started(), plan(['a'])).when(route).then([{ type: 'StepRouted', data: { stepId: 'a', worker: 'w1', policy: 'capability', reasoning: 'x', alternatives: [] } }]);
    const g = gate('a').data as Record<string, unknown>;
    const { stepId: _s, ...approval } = g;
    const events = decide({ ...route, approval: approval as never }, given(started(), plan(['a'])).state);
    expect(events.map((e) => e.type)).toEqual(['StepRouted', 'ApprovalRequested']);
  });
  it('refuses a step whose dependencies are not done, an unknown step, and a finished run', () => {
    given(started(), plan(['x'], ['a', ['x']])).when(route).thenError('ILLEGAL_STATE', /waits for x/);
    given(started(), plan(['b'])).when(route).thenError('NOT_FOUND');
    given(started(), plan(['a']), { type: 'RunCancelled', data: { by: alice } }).when(route).thenError('ILLEGAL_STATE', /CANCELLED/);
    given().when(route).thenError('NOT_FOUND', /no such run/);
  });
  it('RejectStep records a POLICY failure of the next attempt', () => {
    given(started(), plan(['a'])).when({ type: 'RejectStep', stepId: 'a', error: { message: 'unknown tool echo', code: 'UNKNOWN_TOOL' } }).then([
      { type: 'ToolCallFailed', data: { stepId: 'a', attempt: 1, error: { message: 'unknown tool echo', code: 'UNKNOWN_TOOL' }, failureMode: 'POLICY', retryable: false, durationMs: 0 } },
    ]);
  });
});

describe('StartToolCall', () => {
  const start: RunCommand = { type: 'StartToolCall', stepId: 'a', timeoutMs: 1000, now: T0 };
  it('claims attempt n+1 with its idempotency key', () => {
    given(started(), plan(['a']), routed('a')).when(start).then([callStarted('a')]);
    given(started(), plan(['a']), routed('a'), callStarted('a'), failed('a', 1, T0)).when(start).then([callStarted('a', 2)]);
  });
  it('uses the input an approver edited', () => {
    const edited: RunEvent = { type: 'ApprovalGranted', data: { approvalId: 'r/a/1', stepId: 'a', approver: bob, editedInput: { id: 'safer' } } };
    const [event] = decide(start, given(started(), plan(['a']), routed('a'), gate('a'), edited).state);
    expect(event?.data).toMatchObject({ input: { id: 'safer' } });
  });
  it('warns at 80 % of a budget, once', () => {
    const budget = { totalCalls: 5, perDomain: {}, perTool: {}, onExceed: 'block' as const };
    const history = [started({ budget }), plan(['a'], ['b'], ['c'], ['d'], ['e']), ...['a', 'b', 'c'].flatMap((s) => [routed(s), callStarted(s), succeeded(s)]), routed('d')];
    const events = decide({ ...start, stepId: 'd' }, given(...history).state);
    expect(events[0]).toEqual({ type: 'BudgetWarning', data: { scope: { kind: 'total' }, used: 4, limit: 5, percent: 80 } });
    const later = given(...history, events[0] as RunEvent, callStarted('d'), succeeded('d'), routed('e')).state;
    expect(decide({ ...start, stepId: 'e' }, later).map((e) => e.type)).toEqual(['ToolCallStarted']);
  });
  it('blocks over a budget with block, and warns over it with warn', () => {
    const block = { totalCalls: 1, perDomain: {}, perTool: {}, onExceed: 'block' as const };
    const history = (budget: typeof block | { onExceed: 'warn'; totalCalls: number; perDomain: object; perTool: object }) => [started({ budget: budget as never }), plan(['a'], ['b']), routed('a'), callStarted('a'), succeeded('a'), routed('b')];
    given(...history(block)).when({ ...start, stepId: 'b' }).then([
      { type: 'BudgetExceeded', data: { scope: { kind: 'total' }, used: 1, limit: 1, action: 'block', stepId: 'b' } },
      { type: 'ToolCallFailed', data: { stepId: 'b', attempt: 1, error: { message: 'budget exceeded', code: 'BUDGET_EXCEEDED' }, failureMode: 'POLICY', retryable: false, durationMs: 0 } },
    ]);
    const warned = decide({ ...start, stepId: 'b' }, given(...history({ ...block, onExceed: 'warn' })).state);
    expect(warned.map((e) => e.type)).toEqual(['BudgetExceeded', 'ToolCallStarted']);
    expect(warned[0]?.data).toMatchObject({ action: 'warn', used: 2 });
  });
  it('refuses a step not routed, still running, or a retry before it is due', () => {
    given(started(), plan(['a'])).when(start).thenError('ILLEGAL_STATE', /PENDING/);
    given(started(), plan(['a']), routed('a'), callStarted('a')).when(start).thenError('ILLEGAL_STATE', /RUNNING/);
    given(started(), plan(['a']), routed('a'), callStarted('a'), failed('a', 1, T1)).when(start).thenError('ILLEGAL_STATE', /may not retry before/);
  });
});

describe('RecordToolResult', () => {
  const running = [started(), plan(['a']), routed('a'), callStarted('a')];
  it('records a success', () => {
    given(...running).when(result('a', 1, true)).then([{ type: 'ToolCallSucceeded', data: { stepId: 'a', attempt: 1, output: { done: true }, durationMs: 3 } }]);
  });
  it('schedules a retry with backoff in the event (RETRY)', () => {
    given(...running).when(result('a', 1, false)).then([
      { type: 'ToolCallFailed', data: { stepId: 'a', attempt: 1, error: { message: 'nope' }, failureMode: 'AGENT', retryable: true, retryAt: T1, durationMs: 3 } },
    ]);
  });
  it('does not retry under FAIL_FAST, after the last attempt, or for a USER failure', () => {
    const noRetry = (events: RunEvent[], command: RunCommand) => expect(decide(command, given(...events).state)[0]?.data).not.toHaveProperty('retryAt');
    noRetry([started({ errorStrategy: 'FAIL_FAST' }), plan(['a']), routed('a'), callStarted('a')], result('a', 1, false));
    noRetry([started(), plan(['a']), routed('a'), callStarted('a', 3)], result('a', 3, false));
    const user = decide(result('a', 1, false, 'USER'), given(...running).state)[0]?.data;
    expect(user).toMatchObject({ retryable: false, failureMode: 'USER' });
    expect(user).not.toHaveProperty('retryAt');
  });
  it('refuses a result for a call never started or already answered', () => {
    given(started(), plan(['a']), routed('a')).when(result('a', 1, true)).thenError('ILLEGAL_STATE', /never started/);
    given(...running, succeeded('a')).when(result('a', 1, true)).thenError('ILLEGAL_STATE');
    given(...running).when(result('a', 2, true)).thenError('ILLEGAL_STATE');
    given(...running).when(result('zz', 1, true)).thenError('NOT_FOUND');
  });
  it('records a late result after cancellation without reviving the run', () => {
    const state = given(...running, { type: 'RunCancelled', data: { by: alice } }).state;
    const events = decide(result('a', 1, true), state);
    expect(events.map((e) => e.type)).toEqual(['ToolCallSucceeded']);
    expect(foldRun(events, state).status).toBe('CANCELLED');
    expect(decide(result('a', 1, false), state)[0]?.data).not.toHaveProperty('retryAt');
  });
});

describe('approvals', () => {
  const waiting = [started(), plan(['a']), routed('a'), gate('a')];
  const grant = (approver: { id: string; role: string }, extra: Record<string, unknown> = {}): GrantApproval => ({ type: 'GrantApproval', approvalId: 'r/a/1', approver, now: T0, ...extra });
  it('grants, and the step may start', () => {
    given(...waiting).when(grant(bob, { justification: 'ok' })).then([{ type: 'ApprovalGranted', data: { approvalId: 'r/a/1', stepId: 'a', approver: bob, justification: 'ok', editedInput: undefined } }]);
    const after = given(...waiting, ...decide(grant(bob), given(...waiting).state)).state;
    expect(nextActions(after, T0)).toContainEqual({ kind: 'start', stepId: 'a' });
  });
  it('refuses self-approval, an ineligible role, a second vote, a missing justification, a closed or expired gate', () => {
    given(...waiting).when(grant(alice)).thenError('UNAUTHORIZED', /requested this/);
    given(...waiting).when(grant({ id: 'dave', role: 'developer' })).thenError('UNAUTHORIZED', /role developer/);
    const two = [started(), plan(['a']), routed('a'), gate('a', { requiredApprovals: 2 })];
    const firstVote = decide(grant(bob), given(...two).state);
    given(...two, ...firstVote).when(grant(bob)).thenError('ILLEGAL_STATE', /already voted/);
    given(started(), plan(['a']), routed('a'), gate('a', { justificationRequired: true })).when(grant(bob)).thenError('VALIDATION', /justification/);
    given(...waiting, ...decide(grant(bob), given(...waiting).state)).when(grant(carol)).thenError('ILLEGAL_STATE', /closed/);
    given(...waiting).when(grant(bob, { now: '2026-01-01T02:00:00.000Z' })).thenError('ILLEGAL_STATE', /expired/);
    given(...waiting).when({ ...grant(bob), approvalId: 'r/zz/1' }).thenError('NOT_FOUND');
  });
  it('needs the quorum of distinct approvers', () => {
    const two = [started(), plan(['a']), routed('a'), gate('a', { requiredApprovals: 2 })];
    const one = given(...two, ...decide(grant(bob), given(...two).state)).state;
    expect(one.steps[0]?.status).toBe('AWAITING_APPROVAL');
    const both = foldRun(decide(grant(carol), one), one);
    expect(both.steps[0]?.status).toBe('ROUTED');
    expect(both.steps[0]?.gate?.approvers).toEqual(['bob', 'carol']);
  });
  it('a denial closes the gate and fails the step with POLICY', () => {
    const deny: RunCommand = { type: 'DenyApproval', approvalId: 'r/a/1', approver: carol, justification: 'no', now: T0 };
    const state = given(...waiting).state;
    const events = decide(deny, state);
    expect(events).toEqual([{ type: 'ApprovalDenied', data: { approvalId: 'r/a/1', stepId: 'a', approver: carol, justification: 'no' } }]);
    const after = foldRun(events, state);
    expect(after.steps[0]).toMatchObject({ status: 'FAILED', failureMode: 'POLICY' });
    expect(nextActions(after, T0)).toEqual([{ kind: 'fail', stepId: 'a', reason: 'step_failed' }]);
    given(...waiting).when({ ...deny, approver: alice }).thenError('UNAUTHORIZED');
  });
  it('expires with the configured outcome, only when due', () => {
    const expire: RunCommand = { type: 'ExpireApproval', approvalId: 'r/a/1', now: '2026-01-01T01:00:00.000Z' };
    given(...waiting).when(expire).then([{ type: 'ApprovalExpired', data: { approvalId: 'r/a/1', stepId: 'a', outcome: 'denied', expiredAt: '2026-01-01T01:00:00.000Z' } }]);
    const approving = [started(), plan(['a']), routed('a'), gate('a', { onTimeout: 'approve' })];
    expect(decide(expire, given(...approving).state)[0]?.data).toMatchObject({ outcome: 'approved' });
    given(...waiting).when({ ...expire, now: T0 }).thenError('ILLEGAL_STATE', /not due/);
    expect(nextActions(given(...waiting).state, '2026-01-01T01:00:00.000Z')).toContainEqual({ kind: 'expire_approval', approvalId: 'r/a/1' });
  });
  it('is cancelled by its requester or an admin only', () => {
    const cancel = (by: { id: string; role: string }, isAdmin = false): RunCommand => ({ type: 'CancelApproval', approvalId: 'r/a/1', by, isAdmin });
    expect(decide(cancel(alice), given(...waiting).state).map((e) => e.type)).toEqual(['ApprovalCancelled']);
    expect(decide(cancel({ id: 'root', role: 'admin' }, true), given(...waiting).state).map((e) => e.type)).toEqual(['ApprovalCancelled']);
    given(...waiting).when(cancel(bob)).thenError('UNAUTHORIZED');
  });
});

describe('SkipStep, CompleteRun, FailRun, CancelRun, ResumeRun', () => {
  it('skips a step whose dependency failed (CONTINUE)', () => {
    const history = [started({ errorStrategy: 'CONTINUE' }), plan(['a'], ['b', ['a']]), routed('a'), callStarted('a'), failed('a')];
    expect(nextActions(given(...history).state, T0)).toEqual([{ kind: 'skip', stepId: 'b', becauseOf: 'a' }]);
    given(...history).when({ type: 'SkipStep', stepId: 'b', becauseOf: 'a' }).then([{ type: 'StepSkipped', data: { stepId: 'b', reason: 'depends on a, which did not succeed', becauseOf: 'a' } }]);
  });
  it('completes SUCCEEDED with the outputs, PARTIAL when something failed or was skipped', () => {
    given(started(), plan(['a']), routed('a'), callStarted('a'), succeeded('a')).when({ type: 'CompleteRun' }).then([
      { type: 'RunAggregated', data: { outputs: { a: { ok: 'a' } }, completedSteps: ['a'], failedSteps: [], skippedSteps: [] } },
      { type: 'RunCompleted', data: { status: 'SUCCEEDED' } },
    ]);
    const partial = [started({ errorStrategy: 'CONTINUE' }), plan(['a'], ['b']), routed('a'), callStarted('a'), failed('a'), routed('b'), callStarted('b'), succeeded('b')];
    expect(decide({ type: 'CompleteRun' }, given(...partial).state)[1]).toEqual({ type: 'RunCompleted', data: { status: 'PARTIAL' } });
    given(started(), plan(['a'])).when({ type: 'CompleteRun' }).thenError('ILLEGAL_STATE', /open steps: a/);
  });
  it('fails with a partial result: completed outputs, the failed step, what remains', () => {
    const history = [started(), plan(['a'], ['b', ['a']], ['c', ['b']]), routed('a'), callStarted('a'), succeeded('a'), routed('b'), callStarted('b'), failed('b')];
    given(...history).when({ type: 'FailRun', error: { message: 'boom' }, failureMode: 'AGENT', failedStep: 'b' }).then([
      { type: 'RunFailed', data: { stage: 'EXECUTE', error: { message: 'boom' }, failureMode: 'AGENT', partialResult: { completedSteps: [{ stepId: 'a', output: { ok: 'a' } }], failedStep: 'b', remainingSteps: ['b', 'c'] } } },
    ]);
  });
  it('cancels a running run only', () => {
    given(started(), plan(['a'])).when({ type: 'CancelRun', by: alice, reason: 'stop' }).then([{ type: 'RunCancelled', data: { by: alice, reason: 'stop' } }]);
    given(started(), plan(['a']), { type: 'RunCancelled', data: { by: alice } }).when({ type: 'CancelRun', by: alice }).thenError('ILLEGAL_STATE');
  });
  it('resumes a failed run only; its failed steps get another attempt', () => {
    const history = [started(), plan(['a']), routed('a'), callStarted('a', 3), failed('a', 3), { type: 'RunFailed', data: { stage: 'EXECUTE', error: { message: 'boom' }, partialResult: { completedSteps: [], failedStep: 'a', remainingSteps: ['a'] } } } as RunEvent];
    given(...history).when({ type: 'ResumeRun', by: bob }).then([{ type: 'RunResumed', data: { by: bob, reason: undefined } }]);
    const resumed = foldRun([{ type: 'RunResumed', data: { by: bob } }], given(...history).state);
    expect(resumed.status).toBe('RUNNING');
    expect(resumed.steps[0]).toMatchObject({ status: 'PENDING', attempts: 3 });
    expect(nextActions(resumed, T0)).toEqual([{ kind: 'route', stepId: 'a' }]);
    given(started(), plan(['a'])).when({ type: 'ResumeRun', by: bob }).thenError('ILLEGAL_STATE', /only a FAILED run/);
  });
  it('who may cancel or resume: the requester, a tech lead or devops engineer, an admin; nobody else', () => {
    const other = { id: 'dan', role: 'developer' };
    const viewer = { id: 'vic', role: 'viewer' };
    for (const by of [alice, bob, carol]) {
      given(started(), plan(['a'])).when({ type: 'CancelRun', by }).then([{ type: 'RunCancelled', data: { by, reason: undefined } }]);
    }
    given(started(), plan(['a'])).when({ type: 'CancelRun', by: { id: 'root', role: 'viewer' }, isAdmin: true }).then([{ type: 'RunCancelled', data: { by: { id: 'root', role: 'viewer' }, reason: undefined } }]);
    for (const by of [other, viewer]) {
      given(started(), plan(['a'])).when({ type: 'CancelRun', by }).thenError('UNAUTHORIZED', /only the requester/);
      const failedRun = [started(), plan(['a']), { type: 'RunFailed', data: { stage: 'EXECUTE', error: { message: 'x' }, partialResult: { completedSteps: [], remainingSteps: ['a'] } } } as RunEvent];
      given(...failedRun).when({ type: 'ResumeRun', by }).thenError('UNAUTHORIZED', /only the requester/);
    }
    // A run that does not exist is NOT_FOUND, whoever asks.
    given().when({ type: 'CancelRun', by: other }).thenError('NOT_FOUND');
  });
});

describe('nextActions', () => {
  it('routes ready steps, starts routed ones up to maxParallel, and waits for retries', () => {
    const s = (...e: RunEvent[]): RunState => given(...e).state;
    expect(nextActions(s(started(), plan(['a'], ['b'], ['c', ['a']])), T0)).toEqual([{ kind: 'route', stepId: 'a' }, { kind: 'route', stepId: 'b' }]);
    const three = s(started({ maxParallel: 2 }), plan(['a'], ['b'], ['c']), routed('a'), routed('b'), routed('c'));
    expect(nextActions(three, T0)).toEqual([{ kind: 'start', stepId: 'a' }, { kind: 'start', stepId: 'b' }]);
    const waiting = s(started(), plan(['a']), routed('a'), callStarted('a'), failed('a', 1, T1));
    expect(nextActions(waiting, T0)).toEqual([{ kind: 'wait_until', at: T1 }]);
    expect(nextActions(waiting, T1)).toEqual([{ kind: 'start', stepId: 'a' }]);
  });
  it('fails at the deadline, and on a failed step unless CONTINUE', () => {
    expect(nextActions(given(started({ deadline: T1 }), plan(['a'])).state, T1)).toEqual([{ kind: 'fail', reason: 'deadline' }]);
    expect(nextActions(given(started({ deadline: T1 }), plan(['a'])).state, T0)).toEqual([{ kind: 'route', stepId: 'a' }, { kind: 'wait_until', at: T1 }]);
  });
  it('says nothing for a finished run', () => {
    expect(nextActions(given(started(), plan(['a']), { type: 'RunCancelled', data: { by: alice } }).state, T0)).toEqual([]);
  });
});

describe('RecoverToolCall', () => {
  const running = [started(), plan(['a']), routed('a'), callStarted('a')];
  const overdue = '2026-01-01T00:00:03.000Z'; // T0 + 1,000 ms timeout + 2,000 ms grace
  const recover = (idempotent: boolean, now = overdue): RunCommand => ({ type: 'RecoverToolCall', stepId: 'a', attempt: 1, idempotent, graceMs: 2_000, now });
  it('is due once a call is past its timeout and grace', () => {
    const state = given(...running).state;
    expect(nextActions(state, T1)).toEqual([{ kind: 'wait_until', at: overdue }]);
    expect(nextActions(state, overdue)).toEqual([{ kind: 'recover', stepId: 'a', attempt: 1 }]);
  });
  it('claims an idempotent attempt again with the same key, not counted twice in the budget', () => {
    const events = decide(recover(true), given(...running).state);
    expect(events).toEqual([{ type: 'ToolCallStarted', data: { ...(callStarted('a').data as object), startedAt: overdue, recovered: true } }]);
    expect(foldRun(events, given(...running).state).usage.total).toBe(1);
  });
  it('fails a non-idempotent one as INTERRUPTED, not retryable', () => {
    const [event] = decide(recover(false), given(...running).state);
    expect(event).toMatchObject({ type: 'ToolCallFailed', data: { failureMode: 'SYSTEM', retryable: false, error: { code: 'INTERRUPTED' }, durationMs: 3000 } });
    expect(event?.data).not.toHaveProperty('retryAt');
  });
  it('refuses before it is overdue, or for a call that has its result', () => {
    given(...running).when(recover(true, T1)).thenError('ILLEGAL_STATE', /not overdue/);
    given(...running, succeeded('a')).when(recover(true)).thenError('ILLEGAL_STATE');
  });
});

describe('EscalateApproval and RecordAutomatedDecision', () => {
  const waiting = [started(), plan(['a']), routed('a'), gate('a', { eligibleRoles: ['tech_lead'], automatedApprovers: ['bot'] })];
  it('widens the eligible roles only as far as the policy lets the caller', () => {
    const esc: RunCommand = { type: 'EscalateApproval', approvalId: 'r/a/1', by: bob, allowedTargets: ['devops_engineer'], reason: 'ops' };
    const events = decide(esc, given(...waiting).state);
    expect(events).toEqual([{ type: 'ApprovalEscalated', data: { approvalId: 'r/a/1', stepId: 'a', by: bob, toRoles: ['devops_engineer'], reason: 'ops' } }]);
    const after = foldRun(events, given(...waiting).state);
    expect(after.steps[0]?.gate).toMatchObject({ eligibleRoles: ['tech_lead', 'devops_engineer'], escalated: true, consulted: false });
    given(...waiting).when({ ...esc, allowedTargets: [] }).thenError('UNAUTHORIZED', /may not escalate/);
    given(...waiting).when({ ...esc, toRoles: ['admin'] }).thenError('UNAUTHORIZED', /only to/);
    given(...waiting).when({ ...esc, by: carol }).thenError('UNAUTHORIZED', /not among/);
  });
  it('records an automated approval, denial or hand-over, naming the approver', () => {
    const auto = (decision: 'approve' | 'deny' | 'handover'): RunCommand => ({ type: 'RecordAutomatedDecision', approvalId: 'r/a/1', approver: 'bot', decision, reason: 'because', ceiling: 'high' });
    expect(nextActions(given(...waiting).state, T0)).toContainEqual({ kind: 'consult', approvalId: 'r/a/1' });
    given(...waiting).when(auto('approve')).then([{ type: 'ApprovalAutoApproved', data: { approvalId: 'r/a/1', stepId: 'a', approver: 'bot', rule: 'automated approver bot', reason: 'because' } }]);
    // Above its ceiling an approval is a hand-over, and critical is never approved by a bot.
    expect(decide({ ...(auto('approve') as RecordAutomatedDecision), ceiling: 'medium' }, given(...waiting).state)[0]).toMatchObject({ type: 'ApprovalEscalated', data: { reason: /may approve up to medium risk and this is high/ } });
    given(...waiting).when(auto('deny')).then([{ type: 'ApprovalDenied', data: { approvalId: 'r/a/1', stepId: 'a', approver: { id: 'approver:bot', role: 'automated' }, justification: 'because' } }]);
    const handed = decide(auto('handover'), given(...waiting).state);
    expect(handed[0]).toMatchObject({ type: 'ApprovalEscalated', data: { by: { id: 'approver:bot', role: 'automated' }, toRoles: ['tech_lead'], reason: 'handed over to humans: because' } });
    const after = foldRun(handed, given(...waiting).state);
    expect(after.steps[0]?.gate).toMatchObject({ consulted: true, escalated: false });
    expect(nextActions(after, T0).map((a) => a.kind)).toEqual(['wait_until']);
  });
  it('a consultation is claimed by one instance until its lease passes; an answered gate is neither claimed nor answered again', () => {
    const claim = (instance: string, now: string): RunCommand => ({ type: 'StartConsultation', approvalId: 'r/a/1', instance, now, leaseUntil: T1 });
    const lease: RunEvent = { type: 'ApproverConsultationStarted', data: { approvalId: 'r/a/1', stepId: 'a', instance: 'i1', startedAt: T0, leaseUntil: T1 } };
    given(...waiting).when(claim('i1', T0)).then([lease]);
    // While the lease lives nobody else asks, and the engine wakes up when it passes.
    given(...waiting, lease).when(claim('i2', T0)).thenError('ILLEGAL_STATE', /i1 consults its automated approvers until/);
    expect(nextActions(given(...waiting, lease).state, T0)).not.toContainEqual({ kind: 'consult', approvalId: 'r/a/1' });
    expect(nextActions(given(...waiting, lease).state, T0)).toContainEqual({ kind: 'wait_until', at: T1 });
    // Once it has passed without an answer, another instance takes over.
    expect(nextActions(given(...waiting, lease).state, T1)).toContainEqual({ kind: 'consult', approvalId: 'r/a/1' });
    expect(decide({ ...claim('i2', T1), leaseUntil: '2026-01-01T00:00:02.000Z' } as RunCommand, given(...waiting, lease).state)[0]).toMatchObject({ data: { instance: 'i2' } });
    const answered: RunEvent = { type: 'ApprovalEscalated', data: { approvalId: 'r/a/1', stepId: 'a', by: { id: 'approver:bot', role: 'automated' }, toRoles: ['tech_lead'], reason: 'x' } };
    given(...waiting, lease, answered).when(claim('i2', T1)).thenError('ILLEGAL_STATE', /answered already/);
    given(...waiting, lease, answered).when({ type: 'RecordAutomatedDecision', approvalId: 'r/a/1', approver: 'bot', decision: 'handover', reason: 'late', ceiling: 'high' }).thenError('ILLEGAL_STATE', /answered already/);
  });
});

describe('resume never repeats a side effect', () => {
  const runFailed = (failedStep: string): RunEvent => ({ type: 'RunFailed', data: { stage: 'EXECUTE', error: { message: 'boom' }, partialResult: { completedSteps: [], failedStep, remainingSteps: [] } } });
  const resumed: RunEvent = { type: 'RunResumed', data: { by: bob } };
  const interrupted = (stepId: string, attempt = 1): RunEvent => ({
    type: 'ToolCallFailed',
    data: { stepId, attempt, error: { message: 'interrupted', code: 'INTERRUPTED' }, failureMode: 'SYSTEM', retryable: false, durationMs: 3000 },
  });
  // FAIL_FAST, two parallel steps: a fails, the run fails while b's call is still in flight.
  const inFlight = [started({ errorStrategy: 'FAIL_FAST' }), plan(['a'], ['b']), routed('a'), routed('b'), callStarted('a'), callStarted('b'), failed('a'), runFailed('a')];

  it('a resume leaves a step whose call is in flight RUNNING: it is not routed or started again', () => {
    const state = given(...inFlight, resumed).state;
    expect(state.steps[1]).toMatchObject({ id: 'b', status: 'RUNNING', attempts: 1 });
    expect(nextActions(state, T0).filter((a) => 'stepId' in a && a.stepId === 'b')).toEqual([]);
    // b's answer is its current attempt's: recorded, and it counts.
    const events = decide(result('b', 1, true), state);
    expect(events.map((e) => e.type)).toEqual(['ToolCallSucceeded']);
    expect(foldRun(events, state).steps[1]?.status).toBe('SUCCEEDED');
  });

  it('a RUNNING step kept by a resume whose engine is gone is recovered once overdue, with its own attempt', () => {
    const state = given(...inFlight, resumed).state;
    expect(nextActions(state, '2026-01-01T00:00:03.000Z')).toContainEqual({ kind: 'recover', stepId: 'b', attempt: 1 });
  });

  it('a RUNNING step of a failed run still records its current attempt, without a retry', () => {
    const state = given(...inFlight).state;
    expect(decide(result('b', 1, true), state).map((e) => e.type)).toEqual(['ToolCallSucceeded']);
    expect(decide(result('b', 1, false), state)[0]?.data).not.toHaveProperty('retryAt');
    expect(foldRun(decide(result('b', 1, true), state), state)).toMatchObject({ status: 'FAILED', steps: [{ status: 'FAILED' }, { status: 'SUCCEEDED' }] });
  });

  it('a late success of an interrupted attempt makes the step SUCCEEDED, so resume does not route it again', () => {
    const history = [started({ errorStrategy: 'FAIL_FAST' }), plan(['a']), routed('a'), callStarted('a'), interrupted('a'), runFailed('a')];
    const state = given(...history).state;
    const events = decide(result('a', 1, true), state);
    expect(events).toEqual([{ type: 'ToolCallSucceeded', data: { stepId: 'a', attempt: 1, output: { done: true }, durationMs: 3 } }]);
    const after = foldRun(events, state);
    expect(after.steps[0]).toMatchObject({ status: 'SUCCEEDED', output: { done: true }, attempts: 1 });
    expect(after.status).toBe('FAILED');
    const again = foldRun([resumed], after);
    expect(nextActions(again, T0)).toEqual([{ kind: 'complete' }]);
    // The same attempt cannot answer twice.
    given(...history, ...events).when(result('a', 1, true)).thenError('ILLEGAL_STATE');
  });

  it('a late failure of an interrupted attempt is recorded and changes nothing', () => {
    const state = given(started(), plan(['a']), routed('a'), callStarted('a'), interrupted('a'), runFailed('a')).state;
    const events = decide(result('a', 1, false), state);
    expect(events).toMatchObject([{ type: 'ToolCallFailed', data: { stepId: 'a', attempt: 1, error: { message: 'nope' } } }]);
    expect(events[0]?.data).not.toHaveProperty('retryAt');
    expect(foldRun(events, state).steps[0]).toMatchObject({ status: 'FAILED', error: { code: 'INTERRUPTED' } });
  });

  it('the answer of a superseded attempt is recorded, never refused; a second answer is', () => {
    // a#1 was interrupted, an operator resumed, a#2 runs; then a#1 answers after all.
    const history = [started(), plan(['a']), routed('a'), callStarted('a'), interrupted('a'), runFailed('a'), resumed, routed('a'), callStarted('a', 2)];
    const state = given(...history).state;
    for (const ok of [true, false]) {
      const events = decide(result('a', 1, ok), state);
      expect(events).toMatchObject([{ type: ok ? 'ToolCallSucceeded' : 'ToolCallFailed', data: { stepId: 'a', attempt: 1 } }]);
      expect(events[0]?.data).not.toHaveProperty('retryAt');
      expect(foldRun(events, state).steps[0]).toMatchObject({ status: 'RUNNING', attempts: 2 });
      given(...history, ...events).when(result('a', 1, true)).thenError('ILLEGAL_STATE', /already has a result/);
    }
    given(...history).when(result('a', 3, true)).thenError('ILLEGAL_STATE', /never started/);
  });
});

describe('a denial stands across a resume', () => {
  const denied = (approver = carol): RunEvent => ({ type: 'ApprovalDenied', data: { approvalId: 'r/a/1', stepId: 'a', approver, justification: 'no' } });
  const runFailed: RunEvent = { type: 'RunFailed', data: { stage: 'EXECUTE', error: { message: 'denied' }, partialResult: { completedSteps: [], failedStep: 'a', remainingSteps: [] } } };
  const history = (strategy: 'FAIL_FAST' | 'CONTINUE') => [started({ errorStrategy: strategy }), plan(['a'], ['b']), routed('a'), gate('a'), routed('b'), callStarted('b'), failed('b'), denied(), runFailed];

  it('the requester may not re-open a denied step by resuming: refused, nothing to append', () => {
    given(...history('FAIL_FAST')).when({ type: 'ResumeRun', by: alice }).thenError('UNAUTHORIZED', /denied/);
    // An admin is not an approver of the gate either.
    given(...history('FAIL_FAST')).when({ type: 'ResumeRun', by: { id: 'root', role: 'admin' }, isAdmin: true }).thenError('UNAUTHORIZED', /denied/);
  });

  it('under CONTINUE a resume by someone else leaves the denied step FAILED and retries the rest', () => {
    const state = given(...history('CONTINUE')).state;
    const events = decide({ type: 'ResumeRun', by: alice }, state);
    expect(events).toEqual([{ type: 'RunResumed', data: { by: alice, reason: undefined } }]);
    const after = foldRun(events, state);
    expect(after.steps.map((s) => [s.id, s.status, s.gate?.status])).toEqual([['a', 'FAILED', 'DENIED'], ['b', 'PENDING', undefined]]);
    expect(nextActions(after, T0)).toEqual([{ kind: 'route', stepId: 'b' }]);
  });

  it('an eligible approver other than the requester re-opens it by resuming; the event records who and which gate', () => {
    const state = given(...history('FAIL_FAST')).state;
    const events = decide({ type: 'ResumeRun', by: bob, reason: 'reviewed again' }, state);
    expect(events).toEqual([{ type: 'RunResumed', data: { by: bob, reason: 'reviewed again', reopened: [{ stepId: 'a', approvalId: 'r/a/1' }] } }]);
    const after = foldRun(events, state);
    expect(after.steps[0]).toMatchObject({ status: 'PENDING', gate: undefined });
    expect(nextActions(after, T0)).toContainEqual({ kind: 'route', stepId: 'a' });
  });
});
