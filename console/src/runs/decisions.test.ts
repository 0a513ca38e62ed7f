import { describe, expect, it } from 'vitest';
import type { TraceEvent } from './event-feed';
import { gatesOf } from './decisions';

let revision = 0;
const ev = (type: string, stepId: string | null, actor: string, data?: unknown): TraceEvent => ({
  cursor: `c${revision}`, id: `e${revision}`, revision: revision++, position: '1', type, stage: 'APPROVE', actor, stepId,
  recordedAt: `2026-01-01T00:00:0${revision % 10}.000Z`, ...(data === undefined ? {} : { data }),
});

describe('who decided what and when, per gate', () => {
  it('with payloads: approver, role, justification; escalations and auto-approvals named', () => {
    const gates = gatesOf([
      ev('RunStarted', null, 'alice', {}),
      ev('ApprovalRequested', 'ship', 'system:engine', { approvalId: 'ap-1', stepId: 'ship', requester: { id: 'alice', role: 'developer' } }),
      ev('ApprovalEscalated', 'ship', 'bob', { approvalId: 'ap-1', by: { id: 'bob', role: 'tech_lead' }, toRoles: ['devops_engineer'] }),
      ev('ApprovalGranted', 'ship', 'carol', { approvalId: 'ap-1', approver: { id: 'carol', role: 'devops_engineer' }, justification: 'release train' }),
      ev('ApprovalAutoApproved', 'look', 'system', { approvalId: 'ap-2', approver: 'rules', rule: 'low risk read' }),
    ]);
    expect(gates).toEqual([
      { stepId: 'ship', approvalId: 'ap-1', entries: [
        { kind: 'requested', who: 'alice', role: 'developer', at: '2026-01-01T00:00:02.000Z' },
        { kind: 'escalated', who: 'bob', role: 'tech_lead', at: '2026-01-01T00:00:03.000Z', note: 'to devops_engineer' },
        { kind: 'granted', who: 'carol', role: 'devops_engineer', at: '2026-01-01T00:00:04.000Z', note: 'release train' },
      ] },
      { stepId: 'look', approvalId: 'ap-2', entries: [{ kind: 'auto-approved', who: 'rules', at: '2026-01-01T00:00:05.000Z', note: 'low risk read' }] },
    ]);
  });

  it('without payloads (a viewer): the actor and time, and the approval id from the run\'s steps', () => {
    const gates = gatesOf([ev('ApprovalRequested', 'ship', 'alice'), ev('ApprovalDenied', 'ship', 'bob')], (step) => (step === 'ship' ? 'ap-9' : undefined));
    expect(gates).toEqual([{ stepId: 'ship', approvalId: 'ap-9', entries: [
      { kind: 'requested', who: 'alice', at: expect.any(String) },
      { kind: 'denied', who: 'bob', at: expect.any(String) },
    ] }]);
  });
});
