import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = resolve(__dirname, '../../src');

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []));
}

/** Every relative import of the files under `layer`, as `file -> src/<target>`. */
function importsOf(layer: string): string[] {
  return sources(join(SRC, layer)).flatMap((file) =>
    [...readFileSync(file, 'utf8').matchAll(/^(?:import|export)[^;]*?from\s+'(\.[^']+)'/gms)].map(
      (m) => `${relative(SRC, file)} -> ${relative(SRC, resolve(dirname(file), m[1] as string))}`,
    ),
  );
}

describe('imports point inward (README "Layout")', () => {
  it.each([
    ['domain', /-> (adapters|orchestrator|projections|graphql|server|cli|following)\//],
    ['orchestrator', /-> (adapters|graphql|server|cli)\//],
    ['projections', /-> (adapters|graphql|server|cli)\//],
  ])('src/%s imports no outer layer (the composition roots pick the adapters)', (layer, outer) => {
    expect(importsOf(layer).filter((i) => outer.test(i))).toEqual([]);
  });
});
