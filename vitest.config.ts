import { createRequire } from 'node:module';
import swc from 'unplugin-swc';
import { defineConfig } from 'vitest/config';

const require = createRequire(import.meta.url);

function graphqlAlias(): Record<string, string> {
  try {
    return { graphql: require.resolve('graphql') };
  } catch {
    return {}; // graphql is not a dependency yet
  }
}

export default defineConfig({
  // swc, not esbuild: type-graphql needs emitDecoratorMetadata, which esbuild does not emit.
  plugins: [swc.vite({ module: { type: 'es6' } })],
  resolve: {
    // One copy of graphql for sources and dependencies ("another module or realm").
    alias: graphqlAlias(),
  },
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    // The JSON report is what .ci/run counts from; `npm test` is the one command everywhere.
    reporters: ['default', 'json'],
    outputFile: { json: '.vitest-results.json' },
  },
});
