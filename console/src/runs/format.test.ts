import { describe, expect, it } from 'vitest';
import { exportFileName, formatDuration, formatTime } from './format';

describe('formatting for the runs screens', () => {
  it('durations', () => {
    expect([850, 4_200, 185_000, 7_440_000].map(formatDuration)).toEqual(['850 ms', '4.2 s', '3 min 5 s', '2 h 4 min']);
    expect([null, undefined, -1, Number.NaN].map(formatDuration)).toEqual(['–', '–', '–', '–']);
  });
  it('times and file names', () => {
    expect(formatTime(undefined)).toBe('–');
    expect(formatTime('nope')).toBe('nope');
    expect(formatTime('2026-01-01T00:00:00Z')).toMatch(/2026|26/);
    expect(exportFileName('run-1/../x')).toBe('gatehouse-audit-run-1____x.jsonl');
  });
});
