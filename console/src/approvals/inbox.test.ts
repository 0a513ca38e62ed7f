import { describe, expect, it } from 'vitest';
import { announce, countText, focusAfterLeave, nextHidden, othersText } from './inbox';

describe('inbox bookkeeping', () => {
  it('open requests only other roles may decide are counted, so an empty inbox is not mistaken for no work', () => {
    expect(othersText(0, 0)).toBeUndefined();
    expect(othersText(2, 2)).toBeUndefined();
    expect(othersText(1, 0)).toBe('1 more open request waits for a role that is not yours.');
    expect(othersText(5, 2)).toBe('3 more open requests wait for roles that are not yours.');
  });
  it('a closed request is hidden at once; a revived one (same id, asked again) shows again', () => {
    const hidden = nextHidden(new Set(), { kind: 'CLOSED', approvalId: 'a1' });
    expect([...hidden]).toEqual(['a1']);
    expect([...nextHidden(hidden, { kind: 'UPDATED', approvalId: 'a2' })]).toEqual(['a1']);
    expect([...nextHidden(hidden, { kind: 'REQUESTED', approvalId: 'a1' })]).toEqual([]);
  });
  it('the live region says what changed, and how many wait', () => {
    expect(announce({ kind: 'REQUESTED', approvalId: 'a1' }, 'deploy.release')).toBe('A new approval request: deploy.release.');
    expect(announce({ kind: 'CLOSED', approvalId: 'a1' }, undefined)).toBe('An approval was decided or withdrawn and left the inbox.');
    expect([0, 1, 3].map(countText)).toEqual(['No approvals wait for you.', '1 approval waits for you.', '3 approvals wait for you.']);
  });
  it('after a decided card leaves, focus goes to the card that took its place, else the last, else none', () => {
    expect(focusAfterLeave(['b', 'c'], 0)).toBe('b');
    expect(focusAfterLeave(['a', 'b'], 2)).toBe('b');
    expect(focusAfterLeave([], 0)).toBeUndefined();
  });
});
