/**
 * History made fast for benchmarks: the real engine runs one run of each kind once on a scratch
 * store; those streams are the templates. Copies with fresh run ids (also inside approval ids and
 * idempotency keys) are appended through `store.append`, many runs per group commit, which is how
 * the SQLite store batches concurrent appends into one transaction.
 */
import { join } from 'node:path';
import { z } from 'zod';
import { createSqliteEventStore } from '../../src/adapters/eventstore/sqlite/sqlite-event-store.js';
import type { Principal } from '../../src/domain/events/common.js';
import type { EventToAppend } from '../../src/domain/ports/event-store.js';
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

const alice = { id: 'alice', role: 'developer' };
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

/** Where copies go and how: the store file, its first run number, and the clock of each group. */
export interface CopyPlan {
  readonly path: string;
  readonly templates: readonly string[][];
  /** Run numbers [from, to): run `n` is `<prefix><n>` of template `n % templates.length`. */
  readonly from: number;
  readonly to: number;
  readonly prefix?: string;
  /** The recorded time of run `n` (what the read models read as its start and end). */
  readonly timeOf: (n: number) => Date;
  /** Runs per group commit. Default 200. */
  readonly groupSize?: number;
}

/** Appends the copies, a group of runs per commit; returns how many events were written. */
export async function appendCopies(plan: CopyPlan): Promise<number> {
  let clock = new Date(0);
  const store = createSqliteEventStore({ path: plan.path, now: () => clock });
  const size = plan.groupSize ?? 200;
  let events = 0;
  try {
    for (let start = plan.from; start < plan.to; start += size) {
      const group: Promise<unknown>[] = [];
      clock = plan.timeOf(start);
      for (let n = start; n < Math.min(plan.to, start + size); n++) {
        const k = n % plan.templates.length;
        const runId = `${plan.prefix ?? 'b'}${n}`;
        const batch = copyOf(plan.templates, k, runId);
        events += batch.length;
        group.push(store.append(`run-${runId}`, batch, { expectedRevision: 'no_stream' }));
      }
      await Promise.all(group);
    }
  } finally {
    await store.close();
  }
  return events;
}
