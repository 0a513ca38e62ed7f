import { describe, expect, it } from 'vitest';
import { stageTimeline } from './stages';

const at = (stage: string, second: number) => ({ stage, recordedAt: `2026-01-01T00:00:${String(second).padStart(2, '0')}.000Z` });

describe('the lifecycle timeline', () => {
  it('a run waiting at a gate: earlier stages done, APPROVE current, the rest pending', () => {
    const marks = stageTimeline([at('INITIALIZE', 0), at('PLAN', 1), at('ROUTE', 2), at('APPROVE', 3)]);
    expect(marks.map((m) => [m.stage, m.state, m.events])).toEqual([
      ['INITIALIZE', 'done', 1], ['PLAN', 'done', 1], ['ROUTE', 'done', 1], ['APPROVE', 'current', 1],
      ['EXECUTE', 'pending', 0], ['AGGREGATE', 'pending', 0], ['COMPLETE', 'pending', 0],
    ]);
  });

  it('a finished run without gates: APPROVE skipped; repeated stages counted with first and last time', () => {
    const marks = stageTimeline([at('INITIALIZE', 0), at('PLAN', 1), at('ROUTE', 2), at('EXECUTE', 3), at('ROUTE', 4), at('EXECUTE', 5), at('AGGREGATE', 6), at('COMPLETE', 7)]);
    expect(marks.find((m) => m.stage === 'APPROVE')?.state).toBe('skipped');
    expect(marks.find((m) => m.stage === 'ROUTE')).toEqual({ stage: 'ROUTE', state: 'done', events: 2, firstAt: '2026-01-01T00:00:02.000Z', lastAt: '2026-01-01T00:00:04.000Z' });
    // COMPLETE is terminal: a finished run's last stage is done, not under way.
    expect(marks.find((m) => m.stage === 'COMPLETE')?.state).toBe('done');
  });

  it('shows FAILED only when the run reached it', () => {
    expect(stageTimeline([at('INITIALIZE', 0)]).map((m) => m.stage)).not.toContain('FAILED');
    const failed = stageTimeline([at('INITIALIZE', 0), at('EXECUTE', 1), at('FAILED', 2)]);
    expect(failed.find((m) => m.stage === 'FAILED')?.state).toBe('current');
    expect(stageTimeline([])).toHaveLength(7);
  });
});
