import { act, cleanup, render, screen } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Countdown } from './Countdown';

describe('<Countdown> (live, on a card)', () => {
  beforeEach(() => {
    vi.useFakeTimers();
    vi.setSystemTime(new Date('2026-01-01T12:00:00.000Z'));
  });
  afterEach(() => {
    cleanup();
    vi.useRealTimers();
  });

  it('ticks each second without a new answer from the server, and says "expired" on reaching zero', () => {
    render(<Countdown expiresAt="2026-01-01T12:00:02.000Z" />);
    expect(screen.getByTestId('countdown').textContent).toBe('2 s');
    act(() => vi.advanceTimersByTime(1000));
    expect(screen.getByTestId('countdown').textContent).toBe('1 s');
    act(() => vi.advanceTimersByTime(1000));
    expect(screen.getByTestId('countdown').textContent).toBe('expired');
    expect(screen.getByTestId('countdown').className).toBe('expired');
  });
});
