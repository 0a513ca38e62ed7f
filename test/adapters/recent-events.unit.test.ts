import { describe, expect, it } from 'vitest';
import { type EventRow, RecentEvents } from '../../src/adapters/eventstore/sqlite/recent-events.js';
import type { RecordedEvent } from '../../src/domain/ports/event-store.js';

const row = (position: number, streamId = 'run-a'): EventRow => [position, streamId, position, `id-${position}`, 'ToolCallSucceeded', `{"n":${position}}`, '{}', 0];

function window(capacity: number) {
  const decoded: number[] = [];
  const recent = new RecentEvents(capacity, (r) => {
    decoded.push(r[0]);
    return { id: r[3], streamId: r[1], revision: r[2], position: String(r[0]), type: r[4], data: JSON.parse(r[5]), metadata: {} as never, recordedAt: new Date(r[7]) } as RecordedEvent;
  });
  return { recent, decoded };
}

describe('RecentEvents: the bounded window of decoded events the SQLite store shares', () => {
  it('holds only the newest `capacity` events: older pages fall back to the file, newer ones are served and decoded once', () => {
    const { recent, decoded } = window(4);
    for (let p = 1; p <= 12; p++) recent.remember(row(p));
    expect(recent.page(0, 12, undefined, 100)).toBeUndefined(); // positions 1..8 are gone
    expect(recent.page(7, 12, undefined, 100)).toBeUndefined(); // 8 was overwritten by 12
    const first = recent.page(8, 12, undefined, 100);
    const again = recent.page(8, 12, undefined, 100);
    expect(first?.events.map((e) => e.position)).toEqual(['9', '10', '11', '12']);
    expect(again?.events[0]).toBe(first?.events[0]);
    expect(decoded).toEqual([9, 10, 11, 12]);
  });

  it('a reader far behind decodes for itself: it neither evicts the live window nor is kept', () => {
    const { recent, decoded } = window(4);
    for (let p = 9; p <= 12; p++) recent.remember(row(p));
    const old = recent.decode(row(5), 12);
    expect(recent.decode(row(5), 12)).not.toBe(old); // not kept: decoded again
    expect(recent.page(8, 12, undefined, 100)?.events).toHaveLength(4); // the live window is intact
    expect(decoded).toEqual([5, 5, 9, 10, 11, 12]);
  });

  it('filters and pages like the SQL page, and a shared event is frozen', () => {
    const { recent } = window(8);
    for (let p = 1; p <= 6; p++) recent.remember(row(p, p % 2 ? 'run-a' : 'notify-b'));
    const page = recent.page(0, 6, { streamPrefix: ['run-'] }, 2);
    expect(page).toEqual({ events: [expect.objectContaining({ position: '1' }), expect.objectContaining({ position: '3' })], cursor: 3 });
    const rest = recent.page(3, 6, { streamPrefix: ['run-'] }, 2);
    expect(rest?.events.map((e) => e.position)).toEqual(['5']);
    expect(rest).toMatchObject({ cursor: 6, caughtUp: true });
    expect(recent.page(0, 6, { eventTypes: [] }, 2)).toEqual({ events: [], cursor: 6, caughtUp: true });
    const shared = page?.events[0] as RecordedEvent<string, { n: number }>;
    expect(() => { shared.data.n = 0; }).toThrow(TypeError);
    expect(recent.page(0, 1, undefined, 1)?.events[0]?.data).toEqual({ n: 1 });
  });
});

describe('RecentEvents: a byte budget as well as a count', () => {
  const big = (position: number, bytes: number): EventRow => [position, 'run-a', position, `id-${position}`, 'ToolCallSucceeded', `{"s":"${'x'.repeat(bytes)}"}`, '{}', 0];

  it('keeps no more stored text than its budget: large events fall back to the file instead of pinning memory', () => {
    const recent = new RecentEvents(8, (r) => ({ id: r[3], streamId: r[1], revision: r[2], position: String(r[0]), type: r[4], data: JSON.parse(r[5]), metadata: {} as never, recordedAt: new Date(r[7]) }) as RecordedEvent, 10_000);
    for (let p = 1; p <= 8; p++) recent.remember(big(p, 3_000));
    expect(recent.heldBytes).toBeGreaterThan(0);
    expect(recent.heldBytes).toBeLessThanOrEqual(10_000);
    // What did not fit is read from the file: no page over all eight comes from memory.
    expect(recent.page(0, 8, undefined, 100)).toBeUndefined();
    // An event larger than the whole budget is never held.
    recent.remember(big(9, 20_000));
    expect(recent.page(8, 9, undefined, 100)).toBeUndefined();
    expect(recent.heldBytes).toBeLessThanOrEqual(10_000);
    // As the log moves on, the slots free again and small events are shared as before.
    for (let p = 10; p <= 17; p++) recent.remember(big(p, 10));
    expect(recent.page(9, 17, undefined, 100)?.events.map((e) => e.position)).toEqual(['10', '11', '12', '13', '14', '15', '16', '17']);
    expect(recent.heldBytes).toBeLessThanOrEqual(10_000);
  });
});
