import { createRequire } from 'node:module';
import react from '@vitejs/plugin-react';
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
  test: {
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    // The JSON report is what .ci/run counts from; `npm test` is the one command everywhere.
    reporters: ['default', 'json'],
    outputFile: { json: '.vitest-results.json' },
    projects: [
      {
        // swc, not esbuild: type-graphql needs emitDecoratorMetadata, which esbuild does not emit.
        plugins: [swc.vite({ module: { type: 'es6' } })],
        resolve: {
          // One copy of graphql for sources and dependencies ("another module or realm").
          alias: graphqlAlias(),
        },
        test: {
          name: 'server',
          include: ['test/**/*.test.ts'],
          globalSetup: ['test/global-setup.ts'],
          testTimeout: 30_000,
          hookTimeout: 30_000,
        },
      },
      {
        // The console's components, rendered in happy-dom with React's own JSX transform.
        plugins: [react()],
        test: {
          name: 'console',
          include: ['console/src/**/*.test.{ts,tsx}'],
          environment: 'happy-dom',
          testTimeout: 15_000,
        },
      },
    ],
  },
});
