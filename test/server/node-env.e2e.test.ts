import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { builtFile, repoRoot } from '../support/built.js';

/**
 * The server runs with NODE_ENV=production unless told otherwise: graphql-js then checks types
 * with a plain `instanceof` (its development check cost 0.4–0.5 % of the API server's CPU), as the
 * container (whose image sets it) always did. Apollo's and express's NODE_ENV defaults are
 * overridden explicitly in src/graphql/http/server.ts, so nothing the README promises changes.
 */
describe('NODE_ENV of the server process', () => {
  const envOf = (env: Record<string, string | undefined>) => {
    const { NODE_ENV: _ignored, ...rest } = process.env;
    const script = `import ${JSON.stringify(pathToFileURL(builtFile('src/server/node-env.ts')).href)}; const g = await import('graphql'); process.stdout.write(JSON.stringify({ env: process.env.NODE_ENV, fastInstanceOf: g.GraphQLString instanceof g.GraphQLScalarType && !String((await import('graphql/jsutils/instanceOf.js')).instanceOf).includes('Symbol.toStringTag') }))`;
    return JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: repoRoot, env: { ...rest, ...env }, encoding: 'utf8' })) as { env: string; fastInstanceOf: boolean };
  };

  it('is production when unset, and graphql-js loads its production checks', () => {
    expect(envOf({})).toEqual({ env: 'production', fastInstanceOf: true });
  });

  it('an explicit NODE_ENV is kept', () => {
    expect(envOf({ NODE_ENV: 'development' })).toEqual({ env: 'development', fastInstanceOf: false });
  });

  it('the entry points import it before any library that reads NODE_ENV when it loads', () => {
    for (const entry of ['src/server/main.ts', 'bench/support/api-server.ts']) {
      const imports = readFileSync(join(repoRoot, entry), 'utf8').split('\n').filter((l) => l.startsWith('import '));
      expect(imports.slice(0, 2), entry).toEqual(["import 'reflect-metadata';", `import '${entry.startsWith('bench') ? '../../src/server' : '.'}/node-env.js';`]);
    }
  });
});
