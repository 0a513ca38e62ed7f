import { afterEach, expect } from 'vitest';
import { join } from 'node:path';
import { createEnvSecrets } from '../../src/adapters/secrets/env-secrets.js';
import { createSqliteEventStore, type SqliteEventStore } from '../../src/adapters/eventstore/sqlite/sqlite-event-store.js';
import type { RunState } from '../../src/domain/run/state.js';
import { Orchestrator } from '../../src/orchestrator/api.js';
import { RunEngine, type RunEngineOptions } from '../../src/orchestrator/engine.js';
import type { Playbook } from '../../src/orchestrator/profiles.js';
import { type ToolDefinition, ToolRegistry } from '../../src/orchestrator/tools/tool.js';
import { tempDir } from './temp.js';

export const alice = { id: 'alice', role: 'developer' };
export const bob = { id: 'bob', role: 'tech_lead' };
export const carol = { id: 'carol', role: 'devops_engineer' };

/**
 * Another engine on the same file, as a restarted process would be: its own connection, its own
 * (fresh) memory. `start()` is not called: the test decides when recovery runs.
 */
export function restartedEngine(h: EngineHarness, tools: ToolDefinition[], options: Partial<Omit<RunEngineOptions, 'store' | 'tools'>> = {}) {
  const store = createSqliteEventStore({ path: h.store.settings().path });
  const registry = new ToolRegistry(tools);
  const engine = new RunEngine({ store, tools: registry, secrets: createEnvSecrets(), random: () => 0.5, onError: (e) => h.errors.push(e), ...options });
  const api = new Orchestrator({ engine, tools: registry });
  return { store, engine, api, close: async () => { await engine.close(); await store.close(); } };
}

/** An engine and its API on a real SQLite file in a temporary folder. */
export async function engineHarness(
  tools: ToolDefinition[],
  options: Partial<Omit<RunEngineOptions, 'store' | 'tools'>> & { playbooks?: Playbook[] } = {},
) {
  const tmp = tempDir();
  const store: SqliteEventStore = createSqliteEventStore({ path: join(tmp.dir, 'events.sqlite') });
  const registry = new ToolRegistry(tools);
  const errors: unknown[] = [];
  const engine = new RunEngine({ store, tools: registry, secrets: createEnvSecrets(), random: () => 0.5, onError: (e) => errors.push(e), ...options });
  const api = new Orchestrator({ engine, tools: registry, playbooks: options.playbooks });
  return {
    store,
    engine,
    api,
    errors,
    /** The run's stream as `Type` or `Type(stepId)` strings: the exact sequence tests assert. */
    async trace(runId: string): Promise<string[]> {
      return (await store.readStream(`run-${runId}`)).map((e) => {
        const stepId = (e.data as { stepId?: string }).stepId;
        return stepId ? `${e.type}(${stepId})` : e.type;
      });
    },
    settled: (runId: string, timeoutMs = 10_000): Promise<RunState> =>
      engine.waitFor(runId, (s) => ['SUCCEEDED', 'PARTIAL', 'FAILED', 'CANCELLED'].includes(s.status), timeoutMs),
    async close() {
      await engine.close();
      await store.close();
      tmp.remove();
    },
  };
}

export type EngineHarness = Awaited<ReturnType<typeof engineHarness>>;

/**
 * Per-test teardown for files that keep one harness in a variable: after each test, runs the
 * cleanups the test registered, checks (unless told not to) that the engine reported no error,
 * and closes the harness. Returns the list tests push their cleanups to.
 */
export function teardownEach(current: () => EngineHarness | undefined, options: { expectNoErrors?: boolean } = {}): Array<() => Promise<void>> {
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0)) await c();
    const h = current();
    if (options.expectNoErrors ?? true) expect(h?.errors).toEqual([]);
    await h?.close();
  });
  return cleanups;
}
