import { describe, expect, it } from 'vitest';
import { evolve } from '../../src/domain/run/evolve.js';
import { initialRunState, type RunState } from '../../src/domain/run/state.js';
import { ev, recorded, type SpecEvent } from '../support/projections-events.js';

const carol = { id: 'carol', role: 'devops_engineer' };

/**
 * Every state, step and gate the fold makes has the same members in the same order, the optional
 * ones undefined: V8 then copies them on its fast path. The runs read model folds every event of
 * the log with `evolve`, and mixed shapes made its rebuild twice as slow (no timing is asserted:
 * the shape is what made the difference).
 */
describe('run state shape', () => {
  it('is one shape for every state, one for every step and one for every gate, whatever the events', async () => {
    const failedRun: SpecEvent = { runId: 'r1', type: 'RunFailed', data: { stage: 'EXECUTE', error: { message: 'x' }, partialResult: { completedSteps: [], remainingSteps: [] } } };
    const { events } = await recorded([
      ev.started('r1', 0, { deadline: new Date(0).toISOString() }),
      ev.plan('r1', [{ id: 's1' }, { id: 's2' }, { id: 's3' }]),
      ev.routed('r1', 's1'),
      ev.requested('r1', 's1', 0, { requiredApprovals: 2 }),
      ev.granted('r1', 's1'),
      ev.escalated('r1', 's1'),
      ev.granted('r1', 's1', carol),
      ev.callStarted('r1', 's1'),
      ev.succeeded('r1', 's1'),
      ev.callStarted('r1', 's2'),
      ev.failed('r1', 's2', 1, 10, 0, 50),
      ev.budgetWarning('r1', 2, 3),
      ev.callStarted('r1', 's2', 2),
      ev.failed('r1', 's2', 2),
      failedRun,
      { runId: 'r1', type: 'RunResumed', data: { by: carol } },
      ev.requested('r1', 's3'),
      ev.denied('r1', 's3'),
      ev.completed('r1', 0, 'PARTIAL'),
    ]);
    const states: RunState[] = [];
    let state = initialRunState();
    for (const event of events) {
      // evolve sets the version on the copy it made, never on the state it was given (frozen: a
      // write to it throws), and counts every event.
      const next = evolve(Object.freeze(state), event);
      expect(next).not.toBe(state);
      expect(next.version).toBe(state.version + 1);
      states.push((state = next));
    }
    const shapes = (values: object[]) => new Set(values.map((v) => Object.keys(v).join(',')));
    expect(shapes([initialRunState(), ...states])).toHaveLength(1);
    const steps = states.flatMap((s) => [...s.steps]);
    expect(steps.length).toBeGreaterThan(0);
    expect(shapes(steps)).toHaveLength(1);
    const gates = steps.flatMap((s) => (s.gate ? [s.gate] : []));
    expect(gates.length).toBeGreaterThan(0);
    expect(shapes(gates)).toHaveLength(1);
    // The events above did take the steps through their states (this test sees each one).
    expect(new Set(steps.map((s) => s.status))).toEqual(new Set(['PENDING', 'ROUTED', 'AWAITING_APPROVAL', 'RUNNING', 'SUCCEEDED', 'RETRY_WAIT', 'FAILED']));
  });
});
