import { describe, expect, it } from 'vitest';
import { checkDecision, mayOffer } from './decision';

const schema = { type: 'object', properties: { version: { type: 'string', minLength: 1 } }, required: ['version'], additionalProperties: false };

describe('checkDecision (before a decision is sent)', () => {
  it('a gate that requires a justification refuses an empty or blank one, for approve and deny', () => {
    for (const mode of ['approve', 'deny'] as const) {
      expect(checkDecision({ mode, approvalId: 'a1', text: '  ' }, { justificationRequired: true }, schema)).toEqual({ ok: false, errors: ['A justification is required for this approval.'] });
    }
  });
  it('builds the mutation input: trimmed justification, no empty fields', () => {
    expect(checkDecision({ mode: 'approve', approvalId: 'a1', text: ' release train ' }, { justificationRequired: true }, schema)).toEqual({ ok: true, input: { approvalId: 'a1', justification: 'release train' } });
    expect(checkDecision({ mode: 'deny', approvalId: 'a1', text: '' }, { justificationRequired: false }, schema)).toEqual({ ok: true, input: { approvalId: 'a1' } });
    expect(checkDecision({ mode: 'escalate', approvalId: 'a1', text: 'needs devops' }, { justificationRequired: true }, schema)).toEqual({ ok: true, input: { approvalId: 'a1', reason: 'needs devops' } });
    expect(checkDecision({ mode: 'cancel', approvalId: 'a1', text: '' }, { justificationRequired: true }, schema)).toEqual({ ok: true, input: { approvalId: 'a1' } });
  });
  it('an edited input is parsed and checked: a broken one is not sent, a valid one travels as an object', () => {
    const broken = checkDecision({ mode: 'approve', approvalId: 'a1', text: 'ok', editedInput: '{"version": ""}' }, { justificationRequired: false }, schema);
    expect(broken.ok).toBe(false);
    expect(broken.ok ? [] : broken.errors).toEqual([expect.stringMatching(/^Edited input: version: /)]);
    expect(checkDecision({ mode: 'approve', approvalId: 'a1', text: '', editedInput: '{"version":"2"}' }, { justificationRequired: false }, schema)).toEqual({ ok: true, input: { approvalId: 'a1', editedInput: { version: '2' } } });
  });
});

describe('mayOffer (which buttons a card shows; the server still decides)', () => {
  const can = (ops: string[]) => (op: string) => ops.includes(op);
  it('cancel only to the requester or an admin who may cancel', () => {
    expect(mayOffer('cancel', { id: 'alice', isAdmin: false }, can(['cancelApproval']), 'alice')).toBe(true);
    expect(mayOffer('cancel', { id: 'bob', isAdmin: false }, can(['cancelApproval']), 'alice')).toBe(false);
    expect(mayOffer('cancel', { id: 'root', isAdmin: true }, can(['cancelApproval']), 'alice')).toBe(true);
  });
  it('approve, deny and escalate follow the operations the principal may call (its own request included: the server refuses that)', () => {
    expect(mayOffer('approve', { id: 'alice', isAdmin: false }, can(['approve']), 'alice')).toBe(true);
    expect(mayOffer('escalate', { id: 'bob', isAdmin: false }, can(['approve']), 'alice')).toBe(false);
    expect(mayOffer('deny', { id: 'vera', isAdmin: false }, can([]), 'alice')).toBe(false);
  });
});
