import { describe, expect, it } from 'vitest';
import { quorum } from './quorum';

describe('quorum (the card\'s progress)', () => {
  it('shows "1 of 2" after the first of two approvals, and names who voted', () => {
    const q = quorum(1, 2, ['carol']);
    expect(q.text).toBe('1 of 2');
    expect(q.label).toBe('1 of 2 approvals (carol); 1 more needed');
    expect(q.met).toBe(false);
  });
  it('a fresh single-approver gate is "0 of 1"', () => {
    expect(quorum(0, 1)).toEqual({ text: '0 of 1', label: '0 of 1 approval; 1 more needed', met: false });
  });
  it('is met when received reaches required', () => {
    expect(quorum(2, 2, ['carol', 'dave'])).toMatchObject({ text: '2 of 2', met: true, label: '2 of 2 approvals (carol, dave); quorum met' });
  });
});
