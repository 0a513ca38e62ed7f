import { act, cleanup, render } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { useEvery } from './hooks';

function Every(props: { refresh: () => void }) {
  useEvery(1_000, props.refresh);
  return null;
}

const setVisibility = (state: 'visible' | 'hidden') => {
  Object.defineProperty(document, 'visibilityState', { value: state, configurable: true });
  document.dispatchEvent(new Event('visibilitychange'));
};

afterEach(() => {
  cleanup();
  vi.useRealTimers();
  setVisibility('visible');
});

describe('useEvery (how the budgets and signals pages sample)', () => {
  it('asks every interval while visible, not while the tab is hidden, at once when it comes back, and never after unmount', () => {
    vi.useFakeTimers();
    const refresh = vi.fn();
    const view = render(<Every refresh={refresh} />);
    act(() => void vi.advanceTimersByTime(3_000));
    expect(refresh).toHaveBeenCalledTimes(3);
    act(() => setVisibility('hidden'));
    act(() => void vi.advanceTimersByTime(5_000));
    expect(refresh).toHaveBeenCalledTimes(3);
    act(() => setVisibility('visible'));
    expect(refresh).toHaveBeenCalledTimes(4);
    view.unmount();
    act(() => void vi.advanceTimersByTime(5_000));
    expect(refresh).toHaveBeenCalledTimes(4);
  });
});
