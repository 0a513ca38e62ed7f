import { afterEach } from 'vitest';
import type { FollowerHealth } from '../../src/following/health.js';
import type { RunEngineOptions } from '../../src/orchestrator/engine.js';
import type { ToolDefinition } from '../../src/orchestrator/tools/tool.js';
import type { ProjectionRunner } from '../../src/projections/index.js';
import { createMetrics, type ServerMetrics } from '../../src/server/metrics.js';
import { type EngineHarness, engineHarness } from './engine-harness.js';

/** What {@link metricsEach} gives a test: an engine on a SQLite file, then the server's metrics over its store. */
export interface MetricsSetup {
  /** Starts the engine harness (closed after the test, after the metrics). */
  engine(tools: ToolDefinition[], options?: Partial<Omit<RunEngineOptions, 'store' | 'tools'>>): Promise<EngineHarness>;
  /** The metrics as the composition root wires them, over the harness's store (closed after the test). */
  metrics(projections: ProjectionRunner, health?: FollowerHealth): ServerMetrics;
}

/**
 * The server's metrics over a real engine, closed after each test of the file that calls it: the
 * metrics first (their follower reads the store), then the engine and its store.
 */
export function metricsEach(): MetricsSetup {
  let h: EngineHarness | undefined;
  let metrics: ServerMetrics | undefined;
  afterEach(async () => {
    await metrics?.close();
    metrics = undefined;
    await h?.close();
    h = undefined;
  });
  return {
    async engine(tools, options) {
      h = await engineHarness(tools, options);
      return h;
    },
    metrics(projections, health) {
      if (!h) throw new Error('start the engine first');
      metrics = createMetrics(h.store, projections, health);
      return metrics;
    },
  };
}
