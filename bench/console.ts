/**
 * `npm run bench -- console`: builds the console with Vite into a temporary folder and prints the
 * size of its first load (each asset index.html references, raw and gzipped) against the issue's
 * target of 250 KB of gzipped JavaScript, then every other asset (lazy chunks) for comparison.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { firstLoadAssets, verdict } from './support/first-load.js';
import { printTable } from './support/table.js';

/** 250 KB as the issue states it, in kB of 1,000 bytes (Vite's unit): the stricter reading is 250 × 1,024. */
export const FIRST_LOAD_JS_TARGET = 250_000;

const root = fileURLToPath(new URL('../..', import.meta.url)); // dist/bench → the repository
const kb = (bytes: number) => Math.round(bytes / 100) / 10;
/** Gzip at level 9, what a static server precompressing would send (the default level 6 differs by ~1 %). */
const gzipped = (data: Buffer) => gzipSync(data, { level: 9 }).length;

export async function run(): Promise<void> {
  const out = mkdtempSync(join(tmpdir(), 'gatehouse-bench-console-'));
  try {
    const started = performance.now();
    const build = spawnSync(process.execPath, [join(root, 'node_modules', 'vite', 'bin', 'vite.js'), 'build', '--config', join(root, 'console', 'vite.config.ts'), '--outDir', out, '--emptyOutDir', '--logLevel', 'warn'], { cwd: root, encoding: 'utf8' });
    const buildMs = performance.now() - started;
    if (build.status !== 0) throw new Error(`the console did not build:\n${build.stdout}${build.stderr}`);

    const first = firstLoadAssets(readFileSync(join(out, 'index.html'), 'utf8'));
    const measure = (path: string) => {
      const data = readFileSync(join(out, path));
      return { asset: path, kind: path.endsWith('.css') ? 'css' : path.endsWith('.js') ? 'js' : 'other', raw: data.length, gzip: gzipped(data) };
    };
    const loaded = first.map(measure);
    const js = loaded.filter((a) => a.kind === 'js');
    const gzJs = js.reduce((n, a) => n + a.gzip, 0);
    printTable(`console first load (vite build ${Math.round(buildMs)} ms; sizes in kB of 1,000 bytes)`, [
      ...loaded.map((a) => ({ asset: a.asset, kind: a.kind, 'raw kB': kb(a.raw), 'gzip kB': kb(a.gzip), target: '' })),
      { asset: 'total JS (first load)', kind: 'js', 'raw kB': kb(js.reduce((n, a) => n + a.raw, 0)), 'gzip kB': kb(gzJs), target: `${kb(FIRST_LOAD_JS_TARGET)} kB gzip: ${verdict(gzJs, FIRST_LOAD_JS_TARGET)}` },
    ]);

    const all = readdirSync(out, { recursive: true, encoding: 'utf8' })
      .filter((p) => statSync(join(out, p)).isFile() && /\.(js|css)$/.test(p))
      .map((p) => relative(out, join(out, p)));
    const later = all.filter((p) => !first.includes(p)).map(measure);
    printTable('console assets loaded later (lazy chunks)', later.length
      ? later.map((a) => ({ asset: a.asset, kind: a.kind, 'raw kB': kb(a.raw), 'gzip kB': kb(a.gzip) }))
      : [{ asset: '(none: every route is in the first load)', kind: '', 'raw kB': '', 'gzip kB': '' }]);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}
