/**
 * History for benchmarks, made fast: the real engine runs one run of each of four kinds (plain
 * 5 steps, a retried step, a failed step, an approval gate granted) on a scratch store; their
 * streams are the templates. Copies with fresh run ids (also inside approval ids and idempotency
 * keys) are appended through `store.append`, 200 runs per group commit, with the store's clock
 * advanced 1 ms per run so windows and ages look like a day of traffic.
 */
import { join } from 'node:path';
import { z } from 'zod';
import { createSqliteEventStore } from '../../src/adapters/eventstore/sqlite/sqlite-event-store.js';
import type { EventStore, EventToAppend } from '../../src/domain/ports/event-store.js';
import { TERMINAL_RUN } from '../../src/domain/run/state.js';
import { Orchestrator } from '../../src/orchestrator/api.js';
import { RunEngine } from '../../src/orchestrator/engine.js';
import { defineTool, ToolError, ToolRegistry } from '../../src/orchestrator/tools/tool.js';

const TEMPLATE = 'TPLRUN';

const input = z.object({ n: z.number() });
const base = { description: 'bench tool', input, domain: 'bench', action: { category: 'read', operation: 'read' }, idempotent: true, timeoutMs: 5_000 } as const;
/** The template runs' tools: a no-op, one that fails once then succeeds, one that always fails, a gated no-op. */
export const tools = [
  defineTool({ ...base, name: 'noop', handler: (i) => ({ n: i.n }) }),
  defineTool({ ...base, name: 'flaky', retry: { baseDelayMs: 1 }, handler: (i, c) => { if (c.attempt === 1) throw new ToolError('SYSTEM', 'reset'); return { n: i.n }; } }),
  defineTool({ ...base, name: 'broken', handler: () => { throw new ToolError('USER', 'bad request'); } }),
  defineTool({ ...base, name: 'gated', approval: { eligibleRoles: ['tech_lead'] }, handler: (i) => ({ n: i.n }) }),
];
/** Steps calling `toolsOf` in order, each depending on the one before. */
export const chain = (toolsOf: string[]) => toolsOf.map((tool, i) => ({ id: `s${i}`, tool, input: { n: i }, domain: 'bench', dependsOn: i === 0 ? [] : [`s${i - 1}`] }));
/** The requester of the template runs. */
export const alice = { id: 'alice', role: 'developer' };

/** Runs each template kind once through the real engine (in `dir`) and returns their streams as appendable JSON. */
export async function templates(dir: string): Promise<string[][]> {
  const store = createSqliteEventStore({ path: join(dir, 'templates.sqlite') });
  const registry = new ToolRegistry(tools);
  const engine = new RunEngine({ store, tools: registry, onError: () => {} });
  const api = new Orchestrator({ engine, tools: registry });
  const plans = [
    chain(['noop', 'noop', 'noop', 'noop', 'noop']),
    chain(['noop', 'flaky', 'noop', 'noop']),
    chain(['noop', 'noop', 'broken', 'noop']),
    chain(['noop', 'gated', 'noop']),
  ];
  const out: string[][] = [];
  for (const [k, steps] of plans.entries()) {
    const runId = `${TEMPLATE}${k}`;
    await api.startRun({ runId, goal: `template ${k}`, profile: k === 2 ? 'enterprise' : 'technical', steps }, alice);
    if (k === 3) {
      const s = await engine.waitFor(runId, (st) => st.steps[1]?.status === 'AWAITING_APPROVAL');
      await api.grantApproval({ approvalId: s.steps[1]?.gate?.approvalId as string }, { id: 'bob', role: 'tech_lead' });
    }
    await engine.waitFor(runId, (s) => TERMINAL_RUN.has(s.status), 10_000);
    out.push((await store.readStream(`run-${runId}`)).map((e) => JSON.stringify({ type: e.type, data: e.data, metadata: e.metadata })));
  }
  await engine.close();
  await store.close();
  return out;
}

/**
 * Appends copies of the templates to `store` until at least `events` more events are in it, as
 * runs `b<fromRun>`, `b<fromRun+1>`, ...; `tick` is called once per group with its run count
 * (to advance the store's clock). Returns the events appended and the next free run number.
 */
export async function appendCopies(store: EventStore, kinds: string[][], events: number, fromRun = 0, tick: (runs: number) => void = () => {}): Promise<{ events: number; nextRun: number }> {
  let appended = 0;
  let run = fromRun;
  while (appended < events) {
    const group: Promise<unknown>[] = [];
    for (let i = 0; i < 200 && appended < events; i++, run++) {
      const k = run % kinds.length;
      const runId = `b${run}`;
      const template = kinds[k] as string[];
      const batch = template.map((json) => JSON.parse(json.replaceAll(`${TEMPLATE}${k}`, runId)) as EventToAppend);
      appended += batch.length;
      group.push(store.append(`run-${runId}`, batch, { expectedRevision: 'no_stream' }));
    }
    tick(group.length);
    await Promise.all(group);
  }
  return { events: appended, nextRun: run };
}

/** A new SQLite file at `path` holding at least `events` events of template copies, a day of traffic from 2025-03-01. */
export async function generate(path: string, kinds: string[][], events: number): Promise<number> {
  let clock = Date.parse('2025-03-01T00:00:00Z');
  const store = createSqliteEventStore({ path, now: () => new Date(clock) });
  const { events: appended } = await appendCopies(store, kinds, events, 0, (runs) => { clock += runs; });
  await store.close();
  return appended;
}
