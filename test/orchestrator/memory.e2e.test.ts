import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { builtFile } from '../support/built.js';
import { tempDir } from '../support/temp.js';

describe('bounded memory under abuse', () => {
  it('100,000 refused commands on made-up run ids leave the heap where it was', () => {
    const tmp = tempDir();
    try {
      const child = spawnSync(process.execPath, ['--expose-gc', builtFile('test/fixtures/refused-commands.ts'), join(tmp.dir, 'events.sqlite'), '100000'], { encoding: 'utf8', timeout: 180_000 });
      expect(child.stderr).toBe('');
      const out = JSON.parse(child.stdout.trim().split('\n').at(-1) ?? '{}') as { before: number; after: number; unexpected: number };
      // 100,000 leaked handles would be tens of MB; what is left is the allocator's noise.
      expect(out.after - out.before).toBeLessThan(4 * 1024 * 1024);
      expect(out.unexpected).toBe(0);
    } finally {
      tmp.remove();
    }
  }, 200_000);
});
