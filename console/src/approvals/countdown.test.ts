import { describe, expect, it } from 'vitest';
import { timeLeft } from './countdown';

const at = Date.parse('2026-01-01T12:00:00.000Z');

describe('timeLeft (the card\'s countdown)', () => {
  it('formats hours and minutes, minutes and seconds, and seconds', () => {
    expect(timeLeft('2026-01-01T13:59:30.000Z', at).text).toBe('1 h 59 min');
    expect(timeLeft('2026-01-01T12:04:09.000Z', at).text).toBe('4 min 09 s');
    expect(timeLeft('2026-01-01T12:00:12.000Z', at).text).toBe('12 s');
  });
  it('counts down as now advances, and shows 1 s until the very last millisecond', () => {
    const expires = '2026-01-01T12:00:02.000Z';
    expect(timeLeft(expires, at).text).toBe('2 s');
    expect(timeLeft(expires, at + 1_000).text).toBe('1 s');
    expect(timeLeft(expires, at + 1_999)).toMatchObject({ text: '1 s', expired: false, ms: 1 });
  });
  it('reaching zero is "expired", and so is any time past it', () => {
    expect(timeLeft('2026-01-01T12:00:00.000Z', at)).toEqual({ ms: 0, expired: true, text: 'expired' });
    expect(timeLeft('2026-01-01T11:00:00.000Z', at)).toEqual({ ms: 0, expired: true, text: 'expired' });
  });
  it('an unreadable time is "unknown", never a made-up countdown', () => {
    expect(timeLeft('not a date', at)).toMatchObject({ text: 'unknown', expired: false });
  });
});
