import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, posix, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { repoRoot } from '../support/built.js';

/**
 * No Docker engine runs on these machines, so the image is checked statically against the build
 * this test run made (vitest's global setup): what the container runs must exist in the image and
 * must not need what the runtime stage leaves out (dev dependencies such as typescript).
 */

interface Stage { name: string; workdir: string; lines: string[] }

/** The Dockerfile's stages with their instructions (continuation lines joined, comments dropped). */
function dockerStages(text: string): Stage[] {
  const lines = text.replace(/\\\n/g, ' ').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
  const stages: Stage[] = [];
  for (const line of lines) {
    const from = /^FROM\s+\S+(?:\s+AS\s+(\S+))?/i.exec(line);
    if (from) { stages.push({ name: from[1] ?? String(stages.length), workdir: '/', lines: [] }); continue; }
    const stage = stages.at(-1);
    if (!stage) throw new Error(`instruction before FROM: ${line}`);
    const workdir = /^WORKDIR\s+(\S+)/i.exec(line);
    if (workdir) stage.workdir = posix.resolve(stage.workdir, workdir[1] as string);
    stage.lines.push(line);
  }
  return stages;
}

function execForm(stage: Stage, instruction: 'CMD' | 'ENTRYPOINT'): string[] | undefined {
  const line = stage.lines.filter((l) => l.toUpperCase().startsWith(`${instruction} `)).at(-1);
  return line ? (JSON.parse(line.slice(instruction.length)) as string[]) : undefined;
}

const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { scripts: Record<string, string>; dependencies: Record<string, string>; devDependencies: Record<string, string> };

/** Executables that dev dependencies provide (absent after `npm prune --omit=dev`). */
function devBinaries(): Set<string> {
  const bins = new Set<string>();
  for (const dep of Object.keys(pkg.devDependencies)) {
    const file = join(repoRoot, 'node_modules', dep, 'package.json');
    if (!existsSync(file)) continue;
    const { bin } = JSON.parse(readFileSync(file, 'utf8')) as { bin?: string | Record<string, string> };
    if (typeof bin === 'string') bins.add(dep.split('/').pop() as string);
    else for (const name of Object.keys(bin ?? {})) bins.add(name);
  }
  return bins;
}

/** The commands a container command ends up running: `npm start` / `npm run x` expand to their script. */
function commandsOf(argv: string[]): string[][] {
  if (argv[0] !== 'npm') return [argv];
  const script = argv[1] === 'run' ? argv[2] : argv[1];
  const text = pkg.scripts[script ?? ''];
  if (!text) throw new Error(`npm ${argv.slice(1).join(' ')}: no such script`);
  return text.split(/&&|;/).map((c) => c.trim().split(/\s+/));
}

/** Bare package names imported by a built module and everything it imports, relatively, in turn. */
function packagesImportedFrom(entry: string): Set<string> {
  const seen = new Set<string>();
  const packages = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/(?:^|[\s;])(?:import|export)\b[^'"]*?from\s*['"]([^'"]+)['"]|(?:^|[\s;])import\s*\(?\s*['"]([^'"]+)['"]/gm)) {
      const spec = (m[1] ?? m[2]) as string;
      if (spec.startsWith('.')) visit(resolve(dirname(file), spec));
      else if (!spec.startsWith('node:') && !builtinModules.includes(spec)) packages.add(spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : (spec.split('/')[0] as string));
    }
  };
  visit(entry);
  return packages;
}

const stages = dockerStages(readFileSync(join(repoRoot, 'Dockerfile'), 'utf8'));
const compose = parseYaml(readFileSync(join(repoRoot, 'docker-compose.yml'), 'utf8')) as { services: Record<string, { build?: unknown; command?: string[] | string; entrypoint?: string[] | string }> };
const runtime = stages.at(-1) as Stage;
const service = compose.services.gatehouse;
const hasDocker = spawnSync('docker', ['compose', 'version'], { encoding: 'utf8' }).status === 0;

/** What `docker compose up` runs in the gatehouse container: compose's command, else the image's CMD. */
function containerCommand(): string[] {
  if (service?.entrypoint) throw new Error('the check does not model an entrypoint override');
  const command = service?.command ?? execForm(runtime, 'CMD');
  if (!command) throw new Error('neither docker-compose.yml nor the Dockerfile says what to run');
  return typeof command === 'string' ? command.split(/\s+/) : command;
}

describe('the container image layout (static: no Docker engine here)', () => {
  it('compose builds the Dockerfile, whose runtime stage copies the build output and runs as non-root', () => {
    expect(service?.build).toBe('.');
    expect(stages.length).toBeGreaterThanOrEqual(2);
    expect(runtime.lines).toContainEqual(expect.stringMatching(/^USER\s+node$/));
    const build = stages[0] as Stage;
    expect(build.lines).toContainEqual(expect.stringMatching(/npm run build/));
    expect(build.lines).toContainEqual(expect.stringMatching(/npm prune --omit=dev/));
  });

  it.each([
    ['docker-compose.yml (gatehouse service)', () => containerCommand()],
    ["the Dockerfile's CMD", () => execForm(runtime, 'CMD') as string[]],
  ])('%s runs a file that the build emits and the runtime stage copies, with production dependencies only', (_what, command) => {
    const dev = devBinaries();
    expect(dev.has('tsc')).toBe(true); // the check would prove nothing if it could not see typescript
    const copies = runtime.lines
      .map((l) => /^COPY\s+(?:--\S+\s+)*--from=(\S+)\s+(?:--\S+\s+)*(\S+)\s+(\S+)$/i.exec(l.replace(/--chown=\S+\s+/, '')))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => ({ from: m[1] as string, source: m[2] as string, target: posix.resolve(runtime.workdir, m[3] as string) }));
    const buildDir = (stages.find((s) => s.name === copies[0]?.from) ?? (stages[0] as Stage)).workdir;
    for (const argv of commandsOf(command())) {
      const [bin, ...args] = argv;
      expect(dev.has(bin as string), `${argv.join(' ')} needs the dev dependency that provides ${bin}`).toBe(false);
      expect(bin).toBe('node');
      const inImage = posix.resolve(runtime.workdir, args.find((a) => !a.startsWith('-')) as string);
      const copy = copies.find((c) => inImage === c.target || inImage.startsWith(`${c.target}/`));
      expect(copy, `${inImage} is not copied into the runtime stage`).toBeDefined();
      // Where the build stage had it = where this repo's build has it, relative to the build's WORKDIR.
      const inBuild = posix.join(copy?.source as string, posix.relative(copy?.target as string, inImage));
      const local = join(repoRoot, posix.relative(buildDir, inBuild));
      expect(existsSync(local), `${local} (from ${inImage}) was not emitted by the build`).toBe(true);
      const imported = packagesImportedFrom(local);
      expect(imported).toContain('express'); // the walk reached the HTTP server: it reads the real graph
      for (const name of imported) expect(Object.keys(pkg.dependencies), `${local} imports ${name}`).toContain(name);
    }
  });

  it('the build stage has the console sources before `npm run build`, and the runtime stage holds the built console where the server serves it', () => {
    const build = stages[0] as Stage;
    const buildAt = build.lines.findIndex((l) => /^RUN\b.*npm run build/.test(l));
    const copied = build.lines.slice(0, buildAt)
      .map((l) => /^COPY\s+(?:--\S+\s+)*(.+)$/i.exec(l)?.[1]?.split(/\s+/))
      .filter((parts): parts is string[] => parts !== undefined && !parts.some((p) => p.startsWith('--from')))
      .flatMap((parts) => parts.slice(0, -1).map((p) => posix.normalize(p.replace(/\/$/, ''))));
    // what `npm run build` reads: the tsc project and the Vite config's folder (the console's sources)
    const script = pkg.scripts.build as string;
    const needs = [
      ...[...script.matchAll(/tsc\s+-p\s+(\S+)/g)].map((m) => m[1] as string),
      ...[...script.matchAll(/--config\s+(\S+)/g)].map((m) => posix.dirname(m[1] as string)),
    ];
    expect(needs).toContain('console');
    for (const need of needs) expect(copied, `${need} is not copied into the build stage before npm run build`).toContain(need);

    // the compiled server serves dist/console beside dist/src (src/server/console-assets.ts): it must be in the image, and built
    const entry = posix.resolve(runtime.workdir, (execForm(runtime, 'CMD') as string[]).slice(1).find((a) => !a.startsWith('-')) as string); // node's flags come first
    const served = posix.resolve(posix.dirname(entry), '..', '..', 'console');
    const copy = runtime.lines
      .map((l) => /^COPY\s+(?:--\S+\s+)*--from=\S+\s+(?:--\S+\s+)*(\S+)\s+(\S+)$/i.exec(l.replace(/--chown=\S+\s+/, '')))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => ({ source: m[1] as string, target: posix.resolve(runtime.workdir, m[2] as string) }))
      .find((c) => served === c.target || served.startsWith(`${c.target}/`));
    expect(copy, `${served} (the console the server serves) is not copied into the runtime stage`).toBeDefined();
    const local = join(repoRoot, posix.relative(build.workdir, posix.join(copy?.source as string, posix.relative(copy?.target as string, served))), 'index.html');
    expect(existsSync(local), `${local} was not built`).toBe(true);
  });

  it.skipIf(!hasDocker)('docker compose config agrees with the static reading', () => {
    const r = spawnSync('docker', ['compose', '--file', join(repoRoot, 'docker-compose.yml'), 'config', '--format', 'json'], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    const resolved = JSON.parse(r.stdout) as { services: Record<string, { command?: string[] | null }> };
    expect(resolved.services.gatehouse?.command ?? execForm(runtime, 'CMD')).toEqual(containerCommand());
  });
});
