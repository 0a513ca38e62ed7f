import { describe, expect, it } from 'vitest';
import { budgetQueries, budgetsProjection } from '../../src/projections/read-models/budgets.js';
import { goldenSignalQueries, goldenSignalsProjection } from '../../src/projections/read-models/golden-signals.js';
import { pendingApprovalQueries, pendingApprovalsProjection } from '../../src/projections/read-models/pending-approvals.js';
import { runQueries, runsProjection, traceOf } from '../../src/projections/read-models/runs.js';
import { ev, given, recorded, type SpecEvent, T0 } from '../support/projections-events.js';

const iso = (ms: number) => new Date(T0 + ms).toISOString();
const bob = { id: 'bob', role: 'tech_lead' };
const carol = { id: 'carol', role: 'devops_engineer' };

describe('pending approvals', () => {
  const gated = (runId: string, at: number, extra = {}) => [
    ev.started(runId, at),
    ev.plan(runId, [{ id: 's1', tool: 'deploy.release' }], at),
    ev.routed(runId, 's1', 'w1', at),
    ev.requested(runId, 's1', at, extra),
  ];

  it('lists open requests with risk, confidence, votes, roles, requester, age and due time', async () => {
    const state = await given(pendingApprovalsProjection, gated('r1', 1000, { requiredApprovals: 2, reviewLevel: 'FULL' }));
    const page = pendingApprovalQueries.list(state, { now: iso(61_000) });
    expect(page.items).toHaveLength(1);
    expect(page.items[0]).toMatchObject({
      approvalId: 'r1/s1/1', runId: 'r1', stepId: 's1', tool: 'deploy.release', reviewLevel: 'FULL',
      risk: { level: 'medium', score: 50 }, confidence: { score: 70 }, requiredApprovals: 2, receivedApprovals: 0,
      eligibleRoles: ['tech_lead'], requester: { id: 'alice' }, ageMs: 60_000, expiresAt: iso(1000 + 3_600_000), priority: 'normal',
    });
  });

  it('counts votes until enough, then the request leaves', async () => {
    const events = [...gated('r1', 0, { requiredApprovals: 2, eligibleRoles: ['tech_lead', 'devops_engineer'] }), ev.granted('r1', 's1', bob, 10)];
    let state = await given(pendingApprovalsProjection, events);
    expect(pendingApprovalQueries.get(state, 'r1/s1/1')).toMatchObject({ receivedApprovals: 1, approvers: ['bob'] });
    // bob voted already: not his to act on any more; carol may.
    expect(pendingApprovalQueries.list(state, { now: iso(20), principal: bob }).items).toHaveLength(0);
    expect(pendingApprovalQueries.list(state, { now: iso(20), principal: carol }).items).toHaveLength(1);
    state = await given(pendingApprovalsProjection, [...events, ev.granted('r1', 's1', carol, 20)]);
    expect(state.approvals.size).toBe(0);
  });

  it('an approval decided after escalation: the escalated roles may act, the decision closes it', async () => {
    const escalated = [...gated('r1', 0), ev.escalated('r1', 's1', ['devops_engineer'], 50)];
    let state = await given(pendingApprovalsProjection, escalated);
    const open = pendingApprovalQueries.get(state, 'r1/s1/1');
    expect(open?.eligibleRoles).toEqual(['tech_lead', 'devops_engineer']);
    expect(open?.escalations).toEqual([{ by: bob, toRoles: ['devops_engineer'], at: iso(50) }]);
    expect(pendingApprovalQueries.list(state, { now: iso(60), principal: carol }).items.map((a) => a.approvalId)).toEqual(['r1/s1/1']);
    state = await given(pendingApprovalsProjection, [...escalated, ev.granted('r1', 's1', carol, 90)]);
    expect(pendingApprovalQueries.list(state, { now: iso(100) }).items).toEqual([]);
  });

  it('filters by role, risk and requester; never lists a request to its own requester', async () => {
    const state = await given(pendingApprovalsProjection, [
      ...gated('r1', 0, { risk: { level: 'high', score: 80, factors: [] } }),
      ...gated('r2', 10, { eligibleRoles: ['devops_engineer'], requester: { id: 'dave', role: 'developer' } }),
    ]);
    const ids = (f: Partial<Parameters<typeof pendingApprovalQueries.list>[1]>) =>
      pendingApprovalQueries.list(state, { now: iso(100), ...f }).items.map((a) => a.runId);
    expect(ids({ role: 'tech_lead' })).toEqual(['r1']);
    expect(ids({ role: 'devops_engineer' })).toEqual(['r2']);
    expect(ids({ risk: ['high', 'critical'] })).toEqual(['r1']);
    expect(ids({ requester: 'dave' })).toEqual(['r2']);
    expect(ids({ principal: { id: 'alice', role: 'tech_lead' } })).toEqual([]);
  });

  it('sorts urgent first, then oldest, and pages with a cursor', async () => {
    const state = await given(pendingApprovalsProjection, [
      ...gated('a', 0),
      ...gated('b', 10, { priority: 'urgent' }),
      ...gated('c', 20),
      ...gated('d', 30, { priority: 'urgent' }),
    ]);
    const first = pendingApprovalQueries.list(state, { now: iso(100), first: 3 });
    expect(first.items.map((a) => a.runId)).toEqual(['b', 'd', 'a']);
    expect(first.hasNextPage).toBe(true);
    const second = pendingApprovalQueries.list(state, { now: iso(100), first: 3, after: first.endCursor });
    expect(second.items.map((a) => a.runId)).toEqual(['c']);
    expect(second.hasNextPage).toBe(false);
  });

  it('names the tool from the request itself when it says, else from the plan', async () => {
    const state = await given(pendingApprovalsProjection, [...gated('r1', 0, { tool: 'deploy.canary' }), ...gated('r2', 10)]);
    expect(pendingApprovalQueries.get(state, 'r1/s1/1')?.tool).toBe('deploy.canary');
    expect(pendingApprovalQueries.get(state, 'r2/s1/1')?.tool).toBe('deploy.release');
  });

  it('drops the open requests of a run that is cancelled', async () => {
    const state = await given(pendingApprovalsProjection, [...gated('r1', 0), ev.cancelled('r1', 5)]);
    expect(state.approvals.size).toBe(0);
  });

  it('a request of a failed run leaves the list and comes back, votes kept, when the run is resumed', async () => {
    const failed: SpecEvent = { runId: 'r1', at: 20, type: 'RunFailed', data: { stage: 'EXECUTE', error: { message: 'x' }, partialResult: { completedSteps: [], remainingSteps: [] } } };
    const resumed: SpecEvent = { runId: 'r1', at: 30, type: 'RunResumed', data: { by: carol } };
    const voted = [...gated('r1', 0, { requiredApprovals: 2 }), ev.granted('r1', 's1', bob, 10), failed];
    expect(pendingApprovalQueries.list(await given(pendingApprovalsProjection, voted), { now: iso(25) }).items).toEqual([]);
    const back = await given(pendingApprovalsProjection, [...voted, resumed]);
    expect(pendingApprovalQueries.list(back, { now: iso(35) }).items.map((a) => [a.approvalId, a.receivedApprovals, a.approvers])).toEqual([['r1/s1/1', 1, ['bob']]]);
    // The revived gate can be decided: the deciding vote closes it as before.
    const decided = await given(pendingApprovalsProjection, [...voted, resumed, ev.granted('r1', 's1', carol, 40)]);
    expect(decided.approvals.size).toBe(0);
  });
});

describe('budgets', () => {
  it('counts calls per run against limits: used, remaining, percent, warnings', async () => {
    const state = await given(budgetsProjection, [
      ev.started('r1', 0, { budget: { totalCalls: 4, perDomain: { db: 3 }, perTool: { 'db.select': 10 }, onExceed: 'block' } }),
      ev.plan('r1', [{ id: 's1' }, { id: 's2' }, { id: 's3', domain: 'http', tool: 'http.get' }]),
      ev.callStarted('r1', 's1'),
      ev.callStarted('r1', 's2'),
      ev.budgetWarning('r1', 3, 4),
      ev.callStarted('r1', 's3', 1, 0, 'http.get'),
    ]);
    const report = budgetQueries.run(state, 'r1');
    const line = (scope: string) => report?.lines.find((l) => l.scope === scope);
    expect(line('total')).toMatchObject({ limit: 4, used: 3, remaining: 1, percent: 75, warned: true, exceeded: false });
    expect(line('domain:db')).toMatchObject({ limit: 3, used: 2, remaining: 1, percent: 66.7 });
    expect(line('domain:http')).toMatchObject({ used: 1, limit: undefined });
    expect(line('tool:db.select')).toMatchObject({ limit: 10, used: 2, percent: 20 });
    expect(budgetQueries.profile(state, 'technical')?.lines.find((l) => l.scope === 'total')).toMatchObject({
      calls: 3, warnings: 1, live: { limit: 4, used: 3, remaining: 1, percent: 75 },
    });
  });

  it('a budget exceeded with warn: the call goes on, used passes the limit, remaining stays 0', async () => {
    const state = await given(budgetsProjection, [
      ev.started('r1', 0, { budget: { totalCalls: 1, onExceed: 'warn' } }),
      ev.plan('r1', [{ id: 's1' }, { id: 's2' }]),
      ev.budgetWarning('r1', 1, 1),
      ev.callStarted('r1', 's1'),
      ev.budgetExceeded('r1', 's2', 2, 1, 'warn'),
      ev.callStarted('r1', 's2'),
      ev.completed('r1'),
    ]);
    expect(budgetQueries.run(state, 'r1')?.lines.find((l) => l.scope === 'total')).toMatchObject({
      limit: 1, used: 2, remaining: 0, percent: 200, warned: true, exceeded: true, action: 'warn',
    });
    const profile = budgetQueries.profile(state, 'technical');
    expect(profile).toMatchObject({ runs: 1, liveRuns: 0 });
    expect(profile?.lines.find((l) => l.scope === 'total')).toMatchObject({ calls: 2, exceeded: 1, blocked: 0, live: undefined });
  });
});

describe('golden signals', () => {
  it("a retried step's latency is counted per attempt, by tool, worker, profile and overall", async () => {
    const state = await given(goldenSignalsProjection, [
      ev.started('r1'),
      ev.plan('r1', [{ id: 's1', tool: 'http.get' }]),
      ev.routed('r1', 's1', 'w1'),
      ev.callStarted('r1', 's1', 1, 0, 'http.get', 'w1'),
      ev.failed('r1', 's1', 1, 100, 100, 300, 'SYSTEM'),
      ev.callStarted('r1', 's1', 2, 300, 'http.get', 'w1'),
      ev.failed('r1', 's1', 2, 200, 500, 900, 'RESOURCE'),
      ev.callStarted('r1', 's1', 3, 900, 'http.get', 'w1'),
      ev.succeeded('r1', 's1', 3, 400, 1300),
      ev.completed('r1', 1300),
    ]);
    for (const group of ['overall', 'tool:http.get', 'worker:w1', 'profile:technical']) {
      const s = goldenSignalQueries.signals(state, group);
      expect(s).toMatchObject({ calls: 3, successRate: 1 / 3, errorRate: 2 / 3 });
      expect(s?.errorsByMode).toEqual({ SYSTEM: { count: 1, rate: 1 / 3 }, RESOURCE: { count: 1, rate: 1 / 3 } });
      expect(s?.latencyMs.count).toBe(3);
      expect(s?.latencyMs.p50).toBeCloseTo(200, -1);
      expect(s?.latencyMs.p99).toBeCloseTo(400, -1);
    }
    expect(goldenSignalQueries.signals(state, 'overall')?.runs).toEqual({ SUCCEEDED: 1 });
    expect(goldenSignalQueries.signals(state, 'worker:w1')?.runs).toEqual({});
  });

  it('measures approval wait from request to the deciding vote', async () => {
    const state = await given(goldenSignalsProjection, [
      ev.started('r1'),
      ev.plan('r1', [{ id: 's1' }]),
      ev.routed('r1', 's1'),
      ev.requested('r1', 's1', 0, { requiredApprovals: 2 }),
      ev.granted('r1', 's1', bob, 30_000),
      ev.granted('r1', 's1', carol, 90_000),
    ]);
    const s = goldenSignalQueries.signals(state, 'tool:db.select');
    expect(s?.approvals).toEqual({ granted: 1 });
    expect(s?.approvalWaitMs.count).toBe(1);
    expect(s?.approvalWaitMs.p50).toBeCloseTo(90_000, -3);
  });

  it('sliding windows follow event time: last 5 minutes and last hour', async () => {
    const min = 60_000;
    const events = [ev.started('r1'), ev.plan('r1', [{ id: 'a' }, { id: 'b' }, { id: 'c' }])];
    events.push(ev.callStarted('r1', 'a', 1, 0), ev.succeeded('r1', 'a', 1, 5, 0));
    events.push(ev.callStarted('r1', 'b', 1, 30 * min), ev.succeeded('r1', 'b', 1, 5, 30 * min));
    events.push(ev.callStarted('r1', 'c', 1, 62 * min), ev.failed('r1', 'c', 1, 5, 62 * min));
    const state = await given(goldenSignalsProjection, events);
    // Windows are made of whole buckets (1 min for the last 5 minutes, 5 min for the last hour).
    const now = iso(66 * min);
    expect(goldenSignalQueries.signals(state, 'overall', { window: '5m', now })).toMatchObject({ calls: 1, errorRate: 1 });
    expect(goldenSignalQueries.signals(state, 'overall', { window: '1h', now })).toMatchObject({ calls: 2, successRate: 0.5 });
    expect(goldenSignalQueries.signals(state, 'overall')).toMatchObject({ calls: 3 });
    // Buckets out of every window's reach are gone: the state does not grow with time.
    const minuteBuckets = [...state.windows.values()].filter((b) => b.span === '1m');
    expect(minuteBuckets.map((b) => [b.group, b.start - T0])).toEqual(
      expect.arrayContaining([['overall', 62 * min]]),
    );
    expect(minuteBuckets.every((b) => b.start === T0 + 62 * min)).toBe(true);
  });
});

describe('runs', () => {
  it('keeps summary, steps, routing decisions and progress; the trace comes from the stream', async () => {
    const spec: SpecEvent[] = [
      ev.started('r1', 0),
      ev.plan('r1', [{ id: 's1' }, { id: 's2', dependsOn: ['s1'] }, { id: 's3', dependsOn: ['s1'] }, { id: 's4', dependsOn: ['s2'] }], 0),
      ev.routed('r1', 's1', 'w1', 1),
      ev.callStarted('r1', 's1', 1, 2),
      ev.succeeded('r1', 's1', 1, 7, 9),
      ev.routed('r1', 's2', 'w2', 9),
      ev.callStarted('r1', 's2', 1, 9, 'db.select', 'w2'),
      ev.routed('r1', 's3', 'w1', 9),
    ];
    const state = await given(runsProjection, spec);
    const { events } = await recorded(spec);
    const run = runQueries.run(state, 'r1');
    expect(run).toMatchObject({ runId: 'r1', status: 'RUNNING', stage: 'ROUTE', profile: 'technical', requester: { id: 'alice' }, startedAt: iso(0), updatedAt: iso(9) });
    expect(run?.steps.map((s) => [s.id, s.status, s.attempts, s.worker ?? null])).toEqual([
      ['s1', 'SUCCEEDED', 1, 'w1'], ['s2', 'RUNNING', 1, 'w2'], ['s3', 'ROUTED', 0, 'w1'], ['s4', 'PENDING', 0, null],
    ]);
    expect(run?.steps[0]).toMatchObject({ output: { ok: 1 }, durationMs: 7 });
    expect(run?.routing.map((r) => [r.stepId, r.worker])).toEqual([['s1', 'w1'], ['s2', 'w2'], ['s3', 'w1']]);
    expect(run?.routing[0]?.alternatives).toEqual([{ worker: 'w2', score: 0.2, reason: 'busy' }]);
    // 1 done + 0.5 running + 0.1 routed of 4 steps.
    expect(run?.progress).toEqual({ percent: 40, done: 1, inFlight: 2, total: 4 });
    expect(traceOf(events).map((t) => `${t.stage}:${t.type}${t.stepId ? `(${t.stepId})` : ''}`)).toEqual([
      'INITIALIZE:RunStarted', 'PLAN:PlanCreated', 'ROUTE:StepRouted(s1)', 'EXECUTE:ToolCallStarted(s1)', 'EXECUTE:ToolCallSucceeded(s1)',
      'ROUTE:StepRouted(s2)', 'EXECUTE:ToolCallStarted(s2)', 'ROUTE:StepRouted(s3)',
    ]);
  });

  it("a cancelled run's progress counts only what finished", async () => {
    const state = await given(runsProjection, [
      ev.started('r1', 0),
      ev.plan('r1', [{ id: 's1' }, { id: 's2' }, { id: 's3' }, { id: 's4' }]),
      ev.callStarted('r1', 's1'),
      ev.succeeded('r1', 's1'),
      ev.callStarted('r1', 's2', 1, 5),
      ev.cancelled('r1', 2_000),
    ]);
    expect(runQueries.run(state, 'r1')).toMatchObject({
      status: 'CANCELLED', stage: 'COMPLETE', endedAt: iso(2_000), durationMs: 2_000, progress: { percent: 25, done: 1, inFlight: 1, total: 4 },
    });
  });

  it("a retried step shows its attempts; a late result of an abandoned attempt changes nothing", async () => {
    const state = await given(runsProjection, [
      ev.started('r1'),
      ev.plan('r1', [{ id: 's1' }]),
      ev.callStarted('r1', 's1', 1),
      ev.failed('r1', 's1', 1, 10, 10, 100),
      ev.callStarted('r1', 's1', 2, 100),
      ev.succeeded('r1', 's1', 1, 10, 120),
    ]);
    expect(runQueries.run(state, 'r1')?.steps[0]).toMatchObject({ status: 'RUNNING', attempts: 2 });
  });

  it('shows what the run fold holds across a resume: a RUNNING call stays, a denial stands unless re-opened, a late success of an interrupted call counts', async () => {
    const failedRun: SpecEvent = { runId: 'r1', type: 'RunFailed', data: { stage: 'EXECUTE', error: { message: 'x' }, partialResult: { completedSteps: [], remainingSteps: [] } } };
    const interrupted: SpecEvent = { runId: 'r1', type: 'ToolCallFailed', data: { stepId: 's3', attempt: 1, error: { message: 'interrupted', code: 'INTERRUPTED' }, failureMode: 'SYSTEM', retryable: false, durationMs: 1 } };
    const resumed = (reopened?: Array<{ stepId: string; approvalId: string }>): SpecEvent => ({ runId: 'r1', type: 'RunResumed', data: { by: carol, ...(reopened ? { reopened } : {}) } });
    const history = [
      ev.started('r1'),
      ev.plan('r1', [{ id: 's1' }, { id: 's2' }, { id: 's3' }]),
      ev.requested('r1', 's1'),
      ev.denied('r1', 's1'),
      ev.callStarted('r1', 's2'),
      ev.callStarted('r1', 's3'),
      interrupted,
      failedRun,
      ev.succeeded('r1', 's3', 1),
    ];
    const kept = runQueries.run(await given(runsProjection, [...history, resumed()]), 'r1');
    expect(kept?.steps.map((s) => [s.id, s.status])).toEqual([['s1', 'FAILED'], ['s2', 'RUNNING'], ['s3', 'SUCCEEDED']]);
    const reopened = runQueries.run(await given(runsProjection, [...history, resumed([{ stepId: 's1', approvalId: 'r1/s1/1' }])]), 'r1');
    expect(reopened?.steps.map((s) => [s.id, s.status])).toEqual([['s1', 'PENDING'], ['s2', 'RUNNING'], ['s3', 'SUCCEEDED']]);
  });
});
