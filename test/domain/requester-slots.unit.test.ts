import { describe, expect, it } from 'vitest';
import { IllegalStateError } from '../../src/domain/errors.js';
import type { RequesterEvent } from '../../src/domain/events/index.js';
import { decideRequester, foldRequester, PendingLimitError, releasableSlots, requesterStreamId } from '../../src/domain/requester/slots.js';
import { decide } from '../../src/domain/run/decide.js';
import { foldRun } from '../../src/domain/run/evolve.js';
import { initialRunState, type RunState } from '../../src/domain/run/state.js';

const dev = { id: 'alice', role: 'developer' };
const T0 = '2030-01-01T00:00:00.000Z';
const reserve = (ids: string[], state = foldRequester([]), limit = 2) =>
  decideRequester({ type: 'ReserveSlots', requester: dev, limit, now: T0, slots: ids.map((id) => ({ slotId: id, approvalId: `r/${id}/1`, runId: 'r' })) }, state);

/** A run with one gated step whose gate is open (or then closed by `close`). */
function runWithGate(close?: 'grant' | 'cancel-run'): RunState {
  let s = foldRun(decide({ type: 'StartRun', runId: 'r', goal: 'g', profile: 'p', requestedBy: dev, errorStrategy: 'FAIL_FAST', budget: {}, maxParallel: 1, steps: [{ id: 'a', tool: 't', input: {}, domain: 'd' }] }, initialRunState()), initialRunState());
  const approval = { approvalId: 'r/a/1', tool: 't', automatedApprovers: [], risk: { level: 'medium' as const, score: 50, factors: [] }, confidence: { score: 70, adjustments: [] }, reviewLevel: 'QUICK' as const, requiredApprovals: 1, eligibleRoles: ['tech_lead'], justificationRequired: false, requester: dev, expiresAt: '2030-01-02T00:00:00.000Z', onTimeout: 'deny' as const, priority: 'normal' as const, input: {} };
  s = foldRun(decide({ type: 'RouteStep', stepId: 'a', routing: { worker: 'w', policy: 'round_robin', reasoning: 'x' }, approval }, s), s);
  if (close === 'grant') s = foldRun(decide({ type: 'GrantApproval', approvalId: 'r/a/1', approver: { id: 'bob', role: 'tech_lead' }, now: T0 }, s), s);
  if (close === 'cancel-run') s = foldRun(decide({ type: 'CancelRun', by: dev }, s), s);
  return s;
}

describe('a requester stream: slots for pending approvals', () => {
  it('reserves all or none, up to the limit, and refuses past it with the counts', () => {
    const two = reserve(['s1', 's2']);
    expect(two.map((e) => e.type)).toEqual(['ApprovalSlotReserved', 'ApprovalSlotReserved']);
    const state = foldRequester(two);
    expect(state.held).toHaveLength(2);
    const error = (() => { try { reserve(['s3'], state); } catch (e) { return e; } })();
    expect(error).toBeInstanceOf(PendingLimitError);
    expect(error).toMatchObject({ code: 'ILLEGAL_STATE', pending: 2, limit: 2, needed: 1 });
    expect(() => reserve(['s1', 's2', 's3'])).toThrow(/this needs 3/);
    expect(() => reserve(['s1'], state)).toThrow(IllegalStateError); // a slot id is reserved once
  });

  it('releases only held slots, so a repeated release appends nothing', () => {
    const state = foldRequester(reserve(['s1']));
    const released = decideRequester({ type: 'ReleaseSlots', slots: [{ slotId: 's1', reason: 'gate_closed' }, { slotId: 'nope', reason: 'gate_closed' }], now: T0 }, state);
    expect(released).toEqual([{ type: 'ApprovalSlotReleased', data: { slotId: 's1', approvalId: 'r/s1/1', reason: 'gate_closed', releasedAt: T0 } }]);
    const after = foldRequester(released as RequesterEvent[], state);
    expect(after.held).toEqual([]);
    expect(decideRequester({ type: 'ReleaseSlots', slots: [{ slotId: 's1', reason: 'gate_closed' }], now: T0 }, after)).toEqual([]);
  });

  it('decides from the runs which slots are free: closed gate, ended run, gate never recorded after the grace', () => {
    const held = foldRequester(decideRequester({ type: 'ReserveSlots', requester: dev, limit: 5, now: T0, slots: [{ slotId: 'x', approvalId: 'r/a/1', runId: 'r' }, { slotId: 'ghost', approvalId: 'g/a/1', runId: 'g' }] }, foldRequester([])));
    const later = (ms: number) => new Date(Date.parse(T0) + ms).toISOString();
    const open = new Map([['r', runWithGate()], ['g', initialRunState()]]);
    expect(releasableSlots(held, open, later(59_999), 60_000)).toEqual([]);
    expect(releasableSlots(held, open, later(60_000), 60_000).map((f) => [f.slot.slotId, f.reason])).toEqual([['ghost', 'orphaned']]);
    expect(releasableSlots(held, new Map([['r', runWithGate('grant')]]), T0, 60_000).map((f) => f.reason)).toEqual(['gate_closed']);
    expect(releasableSlots(held, new Map([['r', runWithGate('cancel-run')]]), T0, 60_000).map((f) => f.reason)).toEqual(['run_ended']);
  });

  it('names the stream requester-<id>, encoding what a stream name may not hold', () => {
    expect(requesterStreamId('alice')).toBe('requester-alice');
    expect(requesterStreamId('a b/c')).toBe('requester-a%20b%2Fc');
  });
});
