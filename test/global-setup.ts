import { spawnSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { repoRoot } from './support/built.js';

/**
 * Child-process, e2e and browser tests run the compiled code and the built console: build both once,
 * fresh, before any test, into an emptied dist/ (as `npm run build` does: its prebuild), so a
 * source file that was removed or renamed leaves no stale .js for a test to load.
 * Type errors are reported here but do not stop the tests (tsc still emits); `npm run typecheck`
 * and CI's type-check step are what fail on them.
 */
export default function setup(): void {
  rmSync(join(repoRoot, 'dist'), { recursive: true, force: true });
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  const result = spawnSync(process.execPath, [tsc, '-p', join(repoRoot, 'tsconfig.build.json')], { encoding: 'utf8' });
  if (result.status !== 0) process.stderr.write(`tsc reported errors (tests run on what it emitted):\n${result.stdout}${result.stderr}\n`);
  if (!existsSync(join(repoRoot, 'dist', 'src', 'orchestrator', 'engine.js'))) throw new Error('the build emitted nothing: see the tsc output above');
  // The browser tests open the console the built server serves: build it too (a second or two).
  const vite = join(repoRoot, 'node_modules', 'vite', 'bin', 'vite.js');
  const consoleBuild = spawnSync(process.execPath, [vite, 'build', '--config', join(repoRoot, 'console', 'vite.config.ts'), '--logLevel', 'warn'], {
    encoding: 'utf8',
    cwd: repoRoot,
    // vitest sets NODE_ENV=test, and Vite obeys it: the console would be React's development build
    // (640 kB, not the 400 kB npm start serves). The browser tests drive what users get.
    env: { ...process.env, NODE_ENV: 'production' },
  });
  if (consoleBuild.status !== 0) throw new Error(`the console did not build:\n${consoleBuild.stdout}${consoleBuild.stderr}`);
}
