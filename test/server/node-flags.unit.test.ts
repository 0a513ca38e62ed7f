import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../support/built.js';

/**
 * `npm start` and the container image run the server with the same Node flags. A 32 MB young
 * generation semi-space (V8's default on 64-bit is 16 MB) halved the scavenges and their total
 * pause time during `npm run bench -- api` (README, Benchmarks → API); 64 MB made the longest
 * pauses longer. The two ways to start the server must not drift apart.
 */
describe('how the server process is started', () => {
  const flag = '--max-semi-space-size=32';

  it('npm start runs the compiled server with the young-generation flag', () => {
    const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    expect(pkg.scripts.start).toMatch(new RegExp(`(^|&&\\s*)node ${flag} dist/src/server/main\\.js$`));
  });

  it('the container runs it with the same flag', () => {
    const cmd = readFileSync(join(repoRoot, 'Dockerfile'), 'utf8').split('\n').filter((l) => l.startsWith('CMD ')).at(-1);
    expect(JSON.parse((cmd as string).slice(4))).toEqual(['node', flag, 'dist/src/server/main.js']);
  });
});
