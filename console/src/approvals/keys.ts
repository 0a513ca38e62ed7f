/** What a key press in the inbox means. Pure, so the rules are tested without a DOM. */
export type KeyAction = { kind: 'select'; index: number } | { kind: 'open'; mode: 'approve' | 'deny' };

/** The parts of a keyboard event the inbox looks at. */
export interface KeyPress {
  readonly key: string;
  readonly ctrlKey?: boolean;
  readonly metaKey?: boolean;
  readonly altKey?: boolean;
  /** The element the key went to (typing in a field is never a shortcut). */
  readonly target?: { tagName?: string; isContentEditable?: boolean } | null;
}

const TYPING = new Set(['INPUT', 'TEXTAREA', 'SELECT']);

/** Whether the key goes to a field the user types into. */
export function isTyping(target: KeyPress['target']): boolean {
  return !!target && (TYPING.has((target.tagName ?? '').toUpperCase()) || target.isContentEditable === true);
}

/**
 * j/k move the selection (clamped to the list; the first press selects the first card), a/d open
 * approve/deny on the selected card. Nothing while typing, with a modifier, or on an empty list.
 */
export function keyAction(press: KeyPress, count: number, selected: number | undefined): KeyAction | undefined {
  if (count === 0 || press.ctrlKey || press.metaKey || press.altKey || isTyping(press.target)) return undefined;
  switch (press.key) {
    case 'j':
      return { kind: 'select', index: selected === undefined ? 0 : Math.min(count - 1, selected + 1) };
    case 'k':
      return { kind: 'select', index: selected === undefined ? 0 : Math.max(0, selected - 1) };
    case 'a':
      return selected === undefined ? undefined : { kind: 'open', mode: 'approve' };
    case 'd':
      return selected === undefined ? undefined : { kind: 'open', mode: 'deny' };
    default:
      return undefined;
  }
}
