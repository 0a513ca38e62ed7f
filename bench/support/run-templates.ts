/**
 * History made fast for benchmarks: the real engine runs one run of each kind once on a scratch
 * store; those streams are the templates. Copies with fresh run ids (also inside approval ids and
 * idempotency keys) are appended through `store.append`, many runs per group commit, which is how
 * the SQLite store batches concurrent appends into one transaction. Used by the projections,
 * history and curves benches.
 */
import { join } from 'node:path';
import { z } from 'zod';
import { createSqliteEventStore } from '../../src/adapters/eventstore/sqlite/sqlite-event-store.js';
import type { Principal } from '../../src/domain/events/common.js';
import type { EventStore, EventToAppend } from '../../src/domain/ports/event-store.js';
import { TERMINAL_RUN } from '../../src/domain/run/state.js';
import { Orchestrator } from '../../src/orchestrator/api.js';
import { RunEngine } from '../../src/orchestrator/engine.js';
import { defineTool, ToolError, ToolRegistry } from '../../src/orchestrator/tools/tool.js';

/** The run id of a template: every occurrence (approval ids, keys) is replaced in its copies. */
export const TEMPLATE_RUN = 'TPLRUN';

const input = z.object({ n: z.number() });
const base = { description: 'bench tool', input, domain: 'bench', action: { category: 'read', operation: 'read' }, idempotent: true, timeoutMs: 5_000 } as const;
/** The tools the templates call: at once, once retried, always failing, and approval-gated. */
export const benchTools = [
  defineTool({ ...base, name: 'noop', handler: (i) => ({ n: i.n }) }),
  defineTool({ ...base, name: 'flaky', retry: { baseDelayMs: 1 }, handler: (i, c) => { if (c.attempt === 1) throw new ToolError('SYSTEM', 'reset'); return { n: i.n }; } }),
  defineTool({ ...base, name: 'broken', handler: () => { throw new ToolError('USER', 'bad request'); } }),
  defineTool({ ...base, name: 'gated', approval: { eligibleRoles: ['tech_lead'] }, handler: (i) => ({ n: i.n }) }),
];

/** A chain of steps, each depending on the one before. */
export const chain = (toolsOf: readonly string[]) => toolsOf.map((tool, i) => ({ id: `s${i}`, tool, input: { n: i }, domain: 'bench', dependsOn: i === 0 ? [] : [`s${i - 1}`] }));

/** One kind of run a template is made of: its steps, profile and requester. */
export interface TemplateKind {
  readonly tools: readonly string[];
  readonly profile: string;
  readonly requester: Principal;
  /** Granted by this principal when its gated step waits for approval. */
  readonly approver?: Principal;
}

/** The requester of the template runs. */
export const alice = { id: 'alice', role: 'developer' };
const bob = { id: 'bob', role: 'tech_lead' };

/** The projections bench's four kinds: plain 5 steps, a retried step, a failed step, a gate granted. */
export const classicKinds: readonly TemplateKind[] = [
  { tools: ['noop', 'noop', 'noop', 'noop', 'noop'], profile: 'technical', requester: alice },
  { tools: ['noop', 'flaky', 'noop', 'noop'], profile: 'technical', requester: alice },
  { tools: ['noop', 'noop', 'broken', 'noop'], profile: 'enterprise', requester: alice },
  { tools: ['noop', 'gated', 'noop'], profile: 'technical', requester: alice, approver: bob },
];

/**
 * Runs each kind once through the real engine on a scratch store in `dir` and returns their
 * streams as appendable JSON (one string per event; the run id is `TPLRUN<index>`).
 */
export async function makeTemplates(dir: string, kinds: readonly TemplateKind[] = classicKinds): Promise<string[][]> {
  const store = createSqliteEventStore({ path: join(dir, 'templates.sqlite') });
  const registry = new ToolRegistry(benchTools);
  const engine = new RunEngine({ store, tools: registry, onError: () => {} });
  const api = new Orchestrator({ engine, tools: registry });
  const out: string[][] = [];
  for (const [k, kind] of kinds.entries()) {
    const runId = `${TEMPLATE_RUN}${k}`;
    await api.startRun({ runId, goal: `template ${k}`, profile: kind.profile, steps: chain(kind.tools) }, kind.requester);
    if (kind.approver) {
      const gated = kind.tools.indexOf('gated');
      const s = await engine.waitFor(runId, (st) => st.steps[gated]?.status === 'AWAITING_APPROVAL');
      await api.grantApproval({ approvalId: s.steps[gated]?.gate?.approvalId as string }, kind.approver);
    }
    await engine.waitFor(runId, (s) => TERMINAL_RUN.has(s.status), 10_000);
    out.push((await store.readStream(`run-${runId}`)).map((e) => JSON.stringify({ type: e.type, data: e.data, metadata: e.metadata })));
  }
  await engine.close();
  await store.close();
  return out;
}

/** The events of template `k` as a run `runId` of its own. */
export function copyOf(templates: readonly string[][], k: number, runId: string): EventToAppend[] {
  return (templates[k] as string[]).map((json) => JSON.parse(json.replaceAll(`${TEMPLATE_RUN}${k}`, runId)) as EventToAppend);
}

/** Which copies to append: runs `<prefix><n>` for n from `from`, until `to` runs or `events` events. */
export interface CopyPlan {
  readonly templates: readonly string[][];
  /** The first run number: run `n` is `<prefix><n>` of template `n % templates.length`. */
  readonly from: number;
  /** Stop before this run number. */
  readonly to?: number;
  /** Or stop once at least this many events were appended. */
  readonly events?: number;
  /** Default `b`. */
  readonly prefix?: string;
  /** Runs per group commit. Default 200. */
  readonly groupSize?: number;
}

/**
 * Appends copies of the templates to `store`, a group of runs per commit (concurrent appends the
 * SQLite store batches into one transaction); `beforeGroup` hears each group's first run number
 * (to set the store's clock). Returns the events appended and the next free run number.
 */
export async function appendCopies(store: EventStore, plan: CopyPlan, beforeGroup: (firstRun: number) => void = () => {}): Promise<{ events: number; nextRun: number }> {
  const size = plan.groupSize ?? 200;
  const to = plan.to ?? Number.POSITIVE_INFINITY;
  const enough = plan.events ?? Number.POSITIVE_INFINITY;
  if (to === Number.POSITIVE_INFINITY && enough === Number.POSITIVE_INFINITY) throw new Error('appendCopies needs `to` or `events`');
  let events = 0;
  let n = plan.from;
  while (n < to && events < enough) {
    beforeGroup(n);
    const group: Promise<unknown>[] = [];
    for (let i = 0; i < size && n < to && events < enough; i++, n++) {
      const runId = `${plan.prefix ?? 'b'}${n}`;
      const batch = copyOf(plan.templates, n % plan.templates.length, runId);
      events += batch.length;
      group.push(store.append(`run-${runId}`, batch, { expectedRevision: 'no_stream' }));
    }
    await Promise.all(group);
  }
  return { events, nextRun: n };
}

/**
 * Appends copies to the SQLite file at `path` (created if missing) with each group recorded at
 * `timeOf(its first run)`, then closes it.
 */
export async function fillFile(path: string, plan: CopyPlan, timeOf: (n: number) => Date): Promise<{ events: number; nextRun: number }> {
  let clock = new Date(0);
  const store = createSqliteEventStore({ path, now: () => clock });
  try {
    return await appendCopies(store, plan, (n) => {
      clock = timeOf(n);
    });
  } finally {
    await store.close();
  }
}
