import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../src/domain/errors.js';
import { compareSequencePositions, parseSequencePosition } from '../../src/adapters/eventstore/shared/positions.js';

describe('sequence cursors (memory and SQLite stores)', () => {
  it('reads a decimal sequence number without leading zeros, up to 16 digits', () => {
    for (const text of ['0', '1', '7', '42', '1000000', '9007199254740991']) expect(parseSequencePosition(text)).toBe(Number(text));
    expect(compareSequencePositions('9', '10')).toBeLessThan(0);
    expect(compareSequencePositions('100', '99')).toBeGreaterThan(0);
    expect(compareSequencePositions('512', '512')).toBe(0);
  });

  it('refuses anything else with a ValidationError naming the cursor', () => {
    const bad: unknown[] = ['', '01', '00', '-1', '+1', '1e3', '0x10', ' 1', '1 ', '1.0', '12345678901234567', 'abc', '１', '1a', 12, null, undefined];
    for (const text of bad) {
      expect(() => parseSequencePosition(text as string), String(text)).toThrow(ValidationError);
      expect(() => compareSequencePositions('1', text as string), String(text)).toThrow(`invalid cursor "${String(text)}"`);
    }
  });
});
