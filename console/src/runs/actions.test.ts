import { describe, expect, it } from 'vitest';
import { offeredActions } from './actions';

describe('cancel and resume offered', () => {
  const all = () => true;
  const none = () => false;
  it('by status', () => {
    expect(offeredActions('RUNNING', all)).toEqual({ cancel: true, resume: false });
    expect(offeredActions('FAILED', all)).toEqual({ cancel: false, resume: true });
    for (const s of ['SUCCEEDED', 'PARTIAL', 'CANCELLED']) expect(offeredActions(s, all)).toEqual({ cancel: false, resume: false });
  });
  it('by what the role may call', () => {
    expect(offeredActions('RUNNING', none)).toEqual({ cancel: false, resume: false });
    expect(offeredActions('FAILED', (op) => op === 'cancelRun')).toEqual({ cancel: false, resume: false });
  });
});
