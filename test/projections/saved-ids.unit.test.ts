import { describe, expect, it } from 'vitest';
import { SavedIds } from '../../src/projections/saved-ids.js';

describe('SavedIds (which ids a rebuilt collection may have saved)', () => {
  it('finds every id added, and says "never saved" for nearly all others', () => {
    const saved = new SavedIds(16); // 64 Ki bits: small enough to see it fill
    const ids = Array.from({ length: 5_000 }, (_, i) => `run-${i.toString(36)}-${(i * 7919) % 1000}`);
    for (const id of ids) saved.add(id);
    for (const id of ids) expect(saved.mayHave(id)).toBe(true);
    let maybe = 0;
    for (let i = 0; i < 20_000; i++) if (saved.mayHave(`other-${i}`)) maybe++;
    // 3 probes, 5,000 ids in 65,536 bits: about 1 % false "maybe" in theory; a broken hash gives far more.
    expect(maybe).toBeLessThan(20_000 * 0.03);
    expect(new SavedIds(16).mayHave('run-1')).toBe(false);
  });
});
