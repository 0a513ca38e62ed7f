import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The compiled JS of a TypeScript file of this repo (built by test/global-setup.ts). */
export function builtFile(relativeTs: string): string {
  const js = join(repoRoot, 'dist', relativeTs.replace(/\.ts$/, '.js'));
  if (!existsSync(js)) throw new Error(`${js} is missing: run "npm run build" (vitest's global setup does)`);
  return js;
}
