import { describe, expect, it } from 'vitest';
import type { RunEvent } from '../../src/domain/events/index.js';
import { canonicalJson } from '../../src/domain/audit/canonical-json.js';
import { evolve } from '../../src/domain/run/evolve.js';
import { nextActions } from '../../src/domain/run/next-actions.js';
import { findStep, initialRunState, type RunState, type StepState } from '../../src/domain/run/state.js';
import { buildStepIndex, StepIndex } from '../../src/domain/run/step-index.js';
import { nextActionsByScan } from '../support/next-actions-scan.js';

const T0 = Date.parse('2026-01-01T00:00:00.000Z');
const iso = (ms: number) => new Date(T0 + ms).toISOString();
const alice = { id: 'alice', role: 'developer' };
const bob = { id: 'bob', role: 'tech_lead' };

/** A small seeded generator (mulberry32): every failure names its seed and replays exactly. */
function random(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  return { next, int, pick: <T>(xs: readonly T[]): T => xs[int(xs.length)] as T, chance: (p: number) => next() < p };
}
type Random = ReturnType<typeof random>;

const run = (type: string, data: unknown) => ({ type, data }) as unknown as RunEvent;

/** A random acyclic plan: each step depends on some that come before it in a random order; plan order shuffled. */
function randomPlan(r: Random) {
  const n = 1 + r.int(12);
  const order = Array.from({ length: n }, (_, i) => `s${i}`);
  const deps = new Map(order.map((id, i) => [id, order.slice(0, i).filter(() => r.chance(0.3))]));
  const planOrder = [...order].sort(() => r.next() - 0.5);
  return planOrder.map((id) => ({ id, tool: 't', input: { id }, domain: r.pick(['db', 'deploy']), dependsOn: deps.get(id) ?? [] }));
}

/** A random event about a random step, shaped from the state so far (also events the decider would refuse: the fold takes them). */
function randomEvent(r: Random, state: RunState, clock: number): RunEvent {
  const step = r.pick(state.steps) as StepState;
  const stepId = step.id;
  const approvalId = step.gate?.approvalId ?? `${stepId}/${state.version}`;
  const attempt = step.attempts + (r.chance(0.8) ? 1 : 0);
  const kind = r.int(100);
  if (kind < 3) return run('RunFailed', { stage: 'EXECUTE', error: { message: 'x' }, partialResult: { completedSteps: [], remainingSteps: [] } });
  if (kind < 8) return run('RunResumed', { by: alice, reopened: r.chance(0.5) ? [{ stepId, approvalId }] : undefined });
  if (kind < 9) return run('RunCancelled', { by: alice });
  if (kind < 18) return run('StepRouted', { stepId, worker: 'w1', policy: 'round_robin', reasoning: 'r', alternatives: [] });
  if (kind < 26) {
    return run('ApprovalRequested', {
      approvalId: `${stepId}/${state.version}`, stepId, risk: { level: 'medium', score: 50, factors: [] }, confidence: { score: 70, adjustments: [] },
      reviewLevel: 'QUICK', requiredApprovals: r.pick([1, 2]), eligibleRoles: ['tech_lead'], justificationRequired: false, requester: alice,
      expiresAt: iso(clock + r.int(4) * 1000), onTimeout: 'deny', priority: 'normal', input: { id: stepId },
      automatedApprovers: r.chance(0.5) ? ['rules'] : [],
    });
  }
  if (kind < 31) return run('ApprovalGranted', { approvalId, stepId, approver: { id: `u${r.int(3)}`, role: 'tech_lead' }, editedInput: r.chance(0.2) ? { edited: true } : undefined });
  if (kind < 33) return run('ApprovalAutoApproved', { approvalId, stepId, approver: 'rules', rule: 'low risk' });
  if (kind < 36) return run('ApproverConsultationStarted', { approvalId, stepId, instance: 'i1', leaseUntil: iso(clock + r.int(3) * 1000) });
  if (kind < 38) return run('ApprovalDenied', { approvalId, stepId, approver: bob });
  if (kind < 39) return run('ApprovalCancelled', { approvalId, stepId, by: alice });
  if (kind < 41) return run('ApprovalExpired', { approvalId, stepId, outcome: r.pick(['approved', 'denied']) });
  if (kind < 43) return run('ApprovalEscalated', { approvalId, stepId, by: r.chance(0.5) ? bob : { id: 'rules', role: 'automated' }, toRoles: ['devops_engineer'] });
  if (kind < 44) return run('BudgetWarning', { scope: { kind: 'total' }, used: 8, limit: 10 });
  if (kind < 60) {
    return run('ToolCallStarted', {
      stepId, tool: 't', worker: 'w1', attempt, idempotencyKey: `${stepId}:${attempt}`, input: {}, timeoutMs: r.pick([500, 1000]), startedAt: iso(clock),
      recovered: r.chance(0.1) ? true : undefined,
    });
  }
  const answered = step.unanswered?.length ? r.pick(step.unanswered) : attempt;
  if (kind < 75) return run('ToolCallSucceeded', { stepId, attempt: answered, output: { ok: stepId }, durationMs: 1 });
  if (kind < 92) {
    const interrupted = r.chance(0.15);
    return run('ToolCallFailed', {
      stepId, attempt: answered, error: { message: 'no', code: interrupted ? 'INTERRUPTED' : 'E' }, failureMode: interrupted ? 'SYSTEM' : 'AGENT',
      retryable: true, retryAt: r.chance(0.5) ? iso(clock + r.int(3) * 1000) : undefined, durationMs: 1,
    });
  }
  return run('StepSkipped', { stepId, reason: 'r', becauseOf: 'x' });
}

describe('nextActions through the step index', () => {
  it('answers exactly as the scan over every step does, on every prefix of random runs (graphs, gates, failures, retries, cancels, resumes)', () => {
    let compared = 0;
    const kinds = new Set<string>();
    for (let seed = 1; seed <= 150; seed++) {
      const r = random(seed);
      let clock = 0;
      let state = evolve(initialRunState(), run('RunStarted', {
        runId: `r${seed}`, goal: 'g', profile: 'technical', requestedBy: alice, errorStrategy: r.pick(['FAIL_FAST', 'RETRY', 'CONTINUE']),
        budget: { perDomain: {}, perTool: {}, onExceed: 'block' }, maxParallel: 1 + r.int(3), deadline: r.chance(0.2) ? iso(20_000 + r.int(20_000)) : undefined,
      }));
      state = evolve(state, run('PlanCreated', { steps: randomPlan(r) }));
      for (let i = 0; i < 60; i++) {
        clock += r.int(3) * 500;
        state = evolve(state, randomEvent(r, state, clock));
        // The index is what building it from scratch over the same steps gives.
        expect(state.index, `seed ${seed}, event ${i}`).toEqual(buildStepIndex(state.steps));
        for (const now of [iso(clock), iso(clock + 2_500)]) {
          for (const grace of [0, 2_000]) {
            const actions = nextActions(state, now, grace);
            expect(actions, `seed ${seed}, event ${i}, now ${now}`).toEqual(nextActionsByScan(state, now, grace));
            for (const a of actions) kinds.add(a.kind);
            compared++;
          }
        }
        for (const s of state.steps) expect(findStep(state, s.id)).toBe(s);
      }
    }
    // The random runs did reach every kind of action (the comparison was not vacuous).
    expect(kinds).toEqual(new Set(['route', 'start', 'recover', 'skip', 'consult', 'expire_approval', 'complete', 'fail', 'wait_until']));
    expect(compared).toBeGreaterThan(30_000);
  });

  it('reads only the steps in play, however many have finished', () => {
    // A 500-step chain with 499 steps done: the scan read every step (several times) per decision.
    const steps = Array.from({ length: 500 }, (_, i) => ({ id: `s${i}`, tool: 't', input: {}, domain: 'd', dependsOn: i === 0 ? [] : [`s${i - 1}`] }));
    let state = evolve(initialRunState(), run('RunStarted', { runId: 'r', goal: 'g', profile: 'technical', requestedBy: alice, errorStrategy: 'FAIL_FAST', budget: { perDomain: {}, perTool: {}, onExceed: 'block' }, maxParallel: 1 }));
    state = evolve(state, run('PlanCreated', { steps }));
    for (let i = 0; i < 499; i++) {
      state = evolve(state, run('ToolCallStarted', { stepId: `s${i}`, tool: 't', worker: 'w', attempt: 1, idempotencyKey: 'k', input: {}, timeoutMs: 1000, startedAt: iso(0) }));
      state = evolve(state, run('ToolCallSucceeded', { stepId: `s${i}`, attempt: 1, output: null, durationMs: 1 }));
    }
    let reads = 0;
    const counted = new Proxy(state.steps as StepState[], {
      get(target, key, receiver) {
        if (typeof key === 'string' && /^\d+$/.test(key)) reads++;
        return Reflect.get(target, key, receiver);
      },
    });
    const i = state.index;
    const watched: RunState = { ...state, steps: counted, index: new StepIndex(counted, i.position, i.dependents, i.live, i.failed, i.running, i.done) };
    expect(nextActions(watched, iso(0))).toEqual([{ kind: 'route', stepId: 's499' }]);
    expect(findStep(watched, 's499')?.status).toBe('PENDING');
    // The step in play and its one dependency, each read a few times; the scan read thousands.
    expect(reads).toBeLessThan(10);
  });

  it('a state given other steps outside evolve (spread with new steps) is not trusted with its old index: nextActions and evolve answer as the scan', () => {
    // Found by review: a spread kept the old index, so a routable step was hidden and StepRouted dropped.
    const steps = [{ id: 'a', tool: 't', input: {}, domain: 'd', dependsOn: [] }, { id: 'b', tool: 't', input: {}, domain: 'd', dependsOn: ['a'] }];
    let state = evolve(initialRunState(), run('RunStarted', { runId: 'r', goal: 'g', profile: 'technical', requestedBy: alice, errorStrategy: 'FAIL_FAST', budget: { perDomain: {}, perTool: {}, onExceed: 'block' }, maxParallel: 2 }));
    state = evolve(state, run('PlanCreated', { steps }));
    // 'a' marked done by hand: 'b' becomes routable, which the old index (built when 'a' was pending) does not know.
    const edited: RunState = { ...state, steps: state.steps.map((s) => (s.id === 'a' ? { ...s, status: 'SUCCEEDED' as const } : s)) };
    expect(nextActions(edited, iso(0))).toEqual(nextActionsByScan(edited, iso(0)));
    expect(nextActions(edited, iso(0))).toEqual([{ kind: 'route', stepId: 'b' }]);
    const routed = evolve(edited, run('StepRouted', { stepId: 'b', worker: 'w', reasoning: 'r', policy: 'p', alternatives: [] }));
    expect(findStep(routed, 'b')?.status).not.toBe('PENDING');
  });

  it('a run state stored as a document (canonical JSON, as the runs read model keeps its folds) folds on and decides as one never stored', () => {
    // The index is not stored (a Map does not survive JSON; it would only bloat the document): a
    // state read back has none, and the fold and nextActions rebuild it from the steps.
    for (let seed = 1; seed <= 40; seed++) {
      const r = random(seed);
      let kept = evolve(initialRunState(), run('RunStarted', { runId: 'r', goal: 'g', profile: 'technical', requestedBy: alice, errorStrategy: r.pick(['FAIL_FAST', 'RETRY', 'CONTINUE']), budget: { perDomain: {}, perTool: {}, onExceed: 'block' }, maxParallel: 2 }));
      kept = evolve(kept, run('PlanCreated', { steps: randomPlan(r) }));
      let clock = 0;
      for (let i = 0; i < 30; i++) {
        clock += 500;
        const text = canonicalJson(kept);
        expect(text).not.toContain('"index"');
        const stored = JSON.parse(text) as RunState;
        const event = randomEvent(r, kept, clock);
        expect(nextActions(stored, iso(clock)), `seed ${seed}, event ${i}`).toEqual(nextActions(kept, iso(clock)));
        const fromStored = evolve(stored, event);
        kept = evolve(kept, event);
        expect(JSON.parse(canonicalJson(fromStored))).toEqual(JSON.parse(canonicalJson(kept)));
        expect(fromStored.index).toEqual(kept.index);
        expect(nextActions(fromStored, iso(clock))).toEqual(nextActions(kept, iso(clock)));
      }
    }
  });
});
