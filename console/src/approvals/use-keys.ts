import { useEffect, useRef } from 'react';
import { type KeyAction, keyAction } from './keys';

/** Listens for the inbox keys (j/k/a/d) on the document while mounted; see `keyAction`. */
export function useInboxKeys(count: number, selected: number | undefined, act: (action: KeyAction) => void): void {
  const state = useRef({ count, selected, act });
  state.current = { count, selected, act };
  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      const s = state.current;
      const action = keyAction({ key: event.key, ctrlKey: event.ctrlKey, metaKey: event.metaKey, altKey: event.altKey, target: event.target as HTMLElement | null }, s.count, s.selected);
      if (!action) return;
      event.preventDefault();
      s.act(action);
    };
    document.addEventListener('keydown', onKey);
    return () => document.removeEventListener('keydown', onKey);
  }, []);
}
