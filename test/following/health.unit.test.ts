import { describe, expect, it } from 'vitest';
import { backoffMs, FollowerHealth, pause } from '../../src/following/health.js';

describe('follower health', () => {
  it('is stalled from the first failure until live again, and counts the resubscriptions', () => {
    let now = Date.parse('2026-01-01T00:00:00.000Z');
    const health = new FollowerHealth(() => now);
    health.live('projections');
    health.stalled('projections', new Error('UNAVAILABLE'));
    now += 1_500;
    health.stalled('projections', new Error('ECONNREFUSED')); // a later failure keeps the first "since"
    expect(health.statuses()).toEqual([{ name: 'projections', state: 'stalled', since: '2026-01-01T00:00:00.000Z', error: 'ECONNREFUSED', resubscriptions: 0 }]);
    expect(health.stalledSeconds('projections')).toBe(1.5);
    health.live('projections');
    expect(health.statuses()).toEqual([{ name: 'projections', state: 'live', resubscriptions: 1 }]);
    expect(health.stalledSeconds('projections')).toBe(0);
  });

  it('backs off exponentially up to its cap; a pause ends early when aborted', async () => {
    expect([0, 1, 2, 3, 10, 100].map((n) => backoffMs(n))).toEqual([100, 200, 400, 800, 5_000, 5_000]);
    const stop = new AbortController();
    const waiting = pause(60_000, stop.signal);
    stop.abort();
    await waiting; // would time the test out if the abort did not end it
  });
});
