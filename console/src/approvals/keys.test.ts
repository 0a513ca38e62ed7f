import { describe, expect, it } from 'vitest';
import { keyAction } from './keys';

describe('keyAction (inbox keyboard)', () => {
  it('j/k move the selection within the list; the first press selects the first card', () => {
    expect(keyAction({ key: 'j' }, 3, undefined)).toEqual({ kind: 'select', index: 0 });
    expect(keyAction({ key: 'j' }, 3, 0)).toEqual({ kind: 'select', index: 1 });
    expect(keyAction({ key: 'j' }, 3, 2)).toEqual({ kind: 'select', index: 2 });
    expect(keyAction({ key: 'k' }, 3, 2)).toEqual({ kind: 'select', index: 1 });
    expect(keyAction({ key: 'k' }, 3, 0)).toEqual({ kind: 'select', index: 0 });
  });
  it('a/d open approve/deny only with a card selected', () => {
    expect(keyAction({ key: 'a' }, 3, 1)).toEqual({ kind: 'open', mode: 'approve' });
    expect(keyAction({ key: 'd' }, 3, 1)).toEqual({ kind: 'open', mode: 'deny' });
    expect(keyAction({ key: 'a' }, 3, undefined)).toBeUndefined();
  });
  it('nothing while typing in a field, with a modifier, or on an empty inbox', () => {
    expect(keyAction({ key: 'j', target: { tagName: 'TEXTAREA' } }, 3, 0)).toBeUndefined();
    expect(keyAction({ key: 'a', target: { tagName: 'input' } }, 3, 0)).toBeUndefined();
    expect(keyAction({ key: 'd', target: { tagName: 'DIV', isContentEditable: true } }, 3, 0)).toBeUndefined();
    expect(keyAction({ key: 'j', ctrlKey: true }, 3, 0)).toBeUndefined();
    expect(keyAction({ key: 'j' }, 0, undefined)).toBeUndefined();
    expect(keyAction({ key: 'x' }, 3, 0)).toBeUndefined();
  });
});
