import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMemoryEventStore } from '../../src/adapters/eventstore/memory/memory-event-store.js';
import { createSqliteReadModelStore } from '../../src/adapters/readmodels/sqlite-read-model-store.js';
import type { EventStore } from '../../src/domain/ports/event-store.js';
import type { GatehouseServices } from '../../src/graphql/context.js';
import { readPendingApprovals } from '../../src/graphql/readers/approvals.js';
import { decodeKey } from '../../src/graphql/readers/cursors.js';
import { readRuns, type RunsQuery } from '../../src/graphql/readers/runs.js';
import type { Collection, ReadModelState } from '../../src/projections/documents.js';
import {
  allProjections,
  budgetQueries,
  canonicalJson,
  budgetsProjection,
  goldenSignalQueries,
  goldenSignalsProjection,
  pendingApprovalsProjection,
  type Projection,
  ProjectionRunner,
  type ReadModelStore,
  runsProjection,
} from '../../src/projections/index.js';
import { asProjected, ProjectionFold } from '../../src/projections/projection.js';
import type { PendingApproval } from '../../src/projections/read-models/pending-approvals.js';
import type { RunView } from '../../src/projections/read-models/runs.js';
import { ev, type SpecEvent, T0 } from '../support/projections-events.js';
import { tempDir } from '../support/temp.js';

const RUNS = 240;
const PROFILES = ['technical', 'finance', 'ops'];
const REQUESTERS = [{ id: 'alice', role: 'developer' }, { id: 'dave', role: 'developer' }, { id: 'erin', role: 'tech_lead' }];
const STATUSES = ['RUNNING', 'SUCCEEDED', 'PARTIAL', 'FAILED', 'CANCELLED'];
const RISKS = ['low', 'medium', 'high', 'critical'] as const;
const ROLE_SETS = [['tech_lead'], ['devops_engineer'], ['tech_lead', 'devops_engineer'], ['developer', 'tech_lead']];
const iso = (ms: number) => new Date(T0 + ms).toISOString();

/** One run of a varied workload: its kind, profile, requester, start time (pairs share one), budget, approval. */
function runEvents(i: number, id = `r${String(i).padStart(4, '0')}`, start = Math.floor(((i * 7919) % RUNS) / 2) * 1000): SpecEvent[] {
  const requester = REQUESTERS[i % 3] as { id: string; role: string };
  const at = (ms: number) => start + ms;
  const events: SpecEvent[] = [
    ev.started(id, at(0), { profile: PROFILES[(i >> 1) % 3] as string, requestedBy: requester, budget: { totalCalls: 1 + (i % 3), perDomain: { db: 2 }, perTool: {}, onExceed: i % 2 ? 'warn' : 'block' } }),
    ev.plan(id, [{ id: 's1', tool: i % 4 ? 'db.select' : 'deploy.release', domain: i % 5 ? 'db' : 'deploy' }, { id: 's2', dependsOn: ['s1'] }], at(1)),
    ev.routed(id, 's1', `w${i % 3}`, at(2)),
  ];
  const gate = () =>
    ev.requested(id, 's1', at(3), {
      risk: { level: RISKS[i % 4] as (typeof RISKS)[number], score: 10 * (i % 10), factors: [] },
      priority: i % 7 === 0 ? 'urgent' : 'normal',
      eligibleRoles: ROLE_SETS[i % 4] as string[],
      requiredApprovals: i % 9 === 0 ? 2 : 1,
      requester,
    });
  switch (i % 6) {
    case 0: // waiting at its gate (some with one of two votes)
      events.push(gate());
      if (i % 9 === 0) events.push(ev.granted(id, 's1', { id: 'carol', role: 'devops_engineer' }, at(4)));
      break;
    case 1: // succeeded
      events.push(ev.callStarted(id, 's1', 1, at(4)), ev.succeeded(id, 's1', 1, 10 + i, at(5)));
      events.push(ev.callStarted(id, 's2', 1, at(6)), ev.succeeded(id, 's2', 1, 5, at(7)), ev.completed(id, at(8)));
      break;
    case 2: // failed
      events.push(ev.callStarted(id, 's1', 1, at(4)), ev.failed(id, 's1', 1, 20, at(5)));
      events.push({ runId: id, at: at(6), type: 'RunFailed', data: { stage: 'EXECUTE', error: { message: 'boom' }, partialResult: { completedSteps: [], failedStep: 's1', remainingSteps: ['s2'] } } });
      break;
    case 3: // cancelled at its gate
      events.push(gate(), ev.cancelled(id, at(5)));
      break;
    case 4: // partial, over its budget
      events.push(ev.callStarted(id, 's1', 1, at(4)), ev.budgetWarning(id, 1, 2, at(4)), ev.succeeded(id, 's1', 1, 7, at(5)));
      events.push(ev.budgetExceeded(id, 's2', 3, 2, 'warn', at(6)), ev.completed(id, at(7), 'PARTIAL'));
      break;
    default: // a call under way
      events.push(ev.callStarted(id, 's1', 1, at(4)));
  }
  return events;
}

/** Appends spec events in time order, the store's clock at each event's time. */
async function append(store: EventStore, clock: { ms: number }, events: readonly SpecEvent[]): Promise<void> {
  for (const e of [...events].sort((a, b) => (a.at ?? 0) - (b.at ?? 0))) {
    clock.ms = T0 + (e.at ?? 0);
    await store.append(`run-${e.runId}`, [{ type: e.type, data: e.data, metadata: { correlationId: e.runId, actor: 'system:engine' } }]);
  }
}

/** The reference: the old in-memory fold (every document in a Map) of the same log. */
async function inMemory<S extends ReadModelState>(store: EventStore, projection: Projection<S>): Promise<S> {
  const fold = new ProjectionFold(projection, (a, b) => store.comparePositions(a, b));
  fold.applyFeed((await store.readAll()).map(asProjected));
  return fold.state;
}

/** The old `readRuns`: filter and sort the whole Map in JS, page by key. Kept here as the reference. */
function referenceRuns(all: readonly RunView[], q: RunsQuery): { ids: string[]; hasNextPage: boolean; totalCount: number } {
  const key = (r: RunView): [string, string] => [r.startedAt, r.runId];
  const compareKey = (a: readonly [string, string], b: readonly [string, string]) =>
    a[0] !== b[0] ? (a[0] < b[0] ? 1 : -1) : a[1] === b[1] ? 0 : a[1] < b[1] ? 1 : -1;
  const matching = all
    .filter(
      (r) =>
        (!q.status || r.status === q.status) &&
        (!q.profile || r.profile === q.profile) &&
        (!q.requester || r.requester?.id === q.requester) &&
        (!q.startedAfter || r.startedAt >= q.startedAfter) &&
        (!q.startedBefore || r.startedAt < q.startedBefore),
    )
    .sort((a, b) => compareKey(key(a), key(b)));
  let start = 0;
  if (q.after !== undefined) {
    const after = decodeKey(q.after);
    start = matching.findIndex((r) => compareKey(key(r), after) > 0);
    if (start < 0) start = matching.length;
  }
  return { ids: matching.slice(start, start + q.first).map((r) => r.runId), hasNextPage: start + q.first < matching.length, totalCount: matching.length };
}

/** The old pending-approvals filter and order, as the reference. */
function referenceApprovals(all: readonly PendingApproval[], f: { role?: string; risk?: string[]; requester?: string; principal?: { id: string; role: string } }): string[] {
  const rank = (a: PendingApproval) => (a.priority === 'urgent' ? 0 : 1);
  return all
    .filter(
      (a) =>
        (!f.role || a.eligibleRoles.includes(f.role)) &&
        (!f.principal || (a.eligibleRoles.includes(f.principal.role) && a.requester.id !== f.principal.id && !a.approvers.includes(f.principal.id))) &&
        (!f.risk || f.risk.includes(a.risk.level)) &&
        (!f.requester || a.requester.id === f.requester),
    )
    .sort((a, b) => rank(a) - rank(b) || (a.requestedAt < b.requestedAt ? -1 : a.requestedAt > b.requestedAt ? 1 : a.approvalId < b.approvalId ? -1 : 1))
    .map((a) => a.approvalId);
}

/** Every page of a runs listing, `first` at a time. */
function allPages(services: GatehouseServices, q: Omit<RunsQuery, 'after'>): { ids: string[]; pages: number } {
  const ids: string[] = [];
  let after: string | undefined;
  let pages = 0;
  for (;;) {
    const page = readRuns(services, { ...q, after });
    pages++;
    ids.push(...page.edges.map((e) => e.node.runId));
    if (!page.pageInfo.hasNextPage) return { ids, pages };
    after = page.pageInfo.endCursor;
  }
}

const pagedOut = (runner: ProjectionRunner) =>
  allProjections.flatMap((p) => Object.values(runner.read(p as Projection<ReadModelState>)).filter((c) => c.pagedOut)) as Array<Collection<unknown>>;

describe('read models served from SQLite: same answers as the old in-memory filter and sort', () => {
  const tmp = tempDir();
  const path = join(tmp.dir, 'rm.sqlite');
  const clock = { ms: T0 };
  const store = createMemoryEventStore({ now: () => new Date(clock.ms) });
  let readModels: ReadModelStore;
  let runner: ProjectionRunner;
  let services: GatehouseServices;
  const CACHE = 25;

  beforeAll(async () => {
    for (let i = 0; i < RUNS; i++) await append(store, clock, runEvents(i));
    readModels = createSqliteReadModelStore({ path });
    // A cache far smaller than the data: most reads miss and go to SQLite.
    runner = new ProjectionRunner({ store, readModels, projections: allProjections, cacheSize: CACHE, maxBatch: 300 });
    await runner.start();
    await runner.waitFor((await store.headPosition()) as string, 20_000);
    services = { projections: runner, now: () => iso(500_000) } as unknown as GatehouseServices;
  }, 60_000);

  afterAll(async () => {
    await runner?.stop();
    readModels?.close();
    tmp.remove();
  });

  it('runs(...): every filter combination, paged 7 at a time, lists what the old code listed, with the same totalCount', async () => {
    const reference = [...(await inMemory(store, runsProjection)).runs.values()];
    const mid = iso(40_000);
    const late = iso(90_000);
    let compared = 0;
    for (const status of [undefined, ...STATUSES])
      for (const profile of [undefined, ...PROFILES])
        for (const requester of [undefined, ...REQUESTERS.map((r) => r.id)])
          for (const [startedAfter, startedBefore] of [[undefined, undefined], [mid, undefined], [undefined, late], [mid, late]]) {
            const q = { status, profile, requester, startedAfter, startedBefore, first: 7 };
            const want = referenceRuns(reference, { ...q, first: RUNS });
            expect(allPages(services, q).ids, JSON.stringify(q)).toEqual(want.ids);
            expect(readRuns(services, q).count()).toBe(want.totalCount);
            compared++;
          }
    expect(compared).toBe(6 * 4 * 4 * 4);
    // Ties on startedAt (two runs per instant) page by run id; each page equals the reference's page.
    for (const first of [1, 2, 50]) {
      let after: string | undefined;
      for (;;) {
        const page = readRuns(services, { first, after });
        const want = referenceRuns(reference, { first, after });
        expect(page.edges.map((e) => e.node.runId)).toEqual(want.ids);
        expect(page.pageInfo.hasNextPage).toBe(want.hasNextPage);
        if (!page.pageInfo.hasNextPage) break;
        after = page.pageInfo.endCursor;
      }
    }
    // The documents themselves are the old model's, byte for byte.
    expect(allPages(services, { first: 50 }).ids).toHaveLength(RUNS);
    for (const r of reference) expect(JSON.parse(JSON.stringify(runsOf(runner, r.runId)))).toEqual(JSON.parse(JSON.stringify(r)));
  });

  it('pendingApprovals, budgets and golden signals answer as the old in-memory model', async () => {
    const approvals = [...(await inMemory(store, pendingApprovalsProjection)).approvals.values()];
    expect(approvals.length).toBeGreaterThan(20);
    const principals = [{ id: 'bob', role: 'tech_lead' }, { id: 'carol', role: 'devops_engineer' }, { id: 'erin', role: 'tech_lead' }, { id: 'dave', role: 'developer' }];
    for (const role of [undefined, 'tech_lead', 'devops_engineer', 'developer'])
      for (const risk of [undefined, ['high', 'critical'], ['low']])
        for (const requester of [undefined, 'alice', 'erin']) {
          const got: string[] = [];
          let after: string | undefined;
          for (;;) {
            const page = readPendingApprovals(services, { id: 'admin', role: 'admin', isAdmin: true } as never, { scope: 'ALL', role, risk: risk as never, requester, first: 4, after });
            got.push(...page.edges.map((e) => e.node.approvalId));
            if (!page.pageInfo.hasNextPage) break;
            after = page.pageInfo.endCursor;
          }
          expect(got).toEqual(referenceApprovals(approvals, { role, risk, requester }));
        }
    for (const p of principals) {
      const page = readPendingApprovals(services, { ...p, isAdmin: false } as never, { scope: 'ACTIONABLE', first: 500 });
      expect(page.edges.map((e) => e.node.approvalId)).toEqual(referenceApprovals(approvals, { principal: p }));
    }
    const budgets = await inMemory(store, budgetsProjection);
    const stored = runner.read(budgetsProjection);
    for (let i = 0; i < RUNS; i++) {
      const id = `r${String(i).padStart(4, '0')}`;
      expect(budgetQueries.run(stored, id)).toEqual(budgetQueries.run(budgets, id));
    }
    for (const p of PROFILES) expect(budgetQueries.profile(stored, p)).toEqual(budgetQueries.profile(budgets, p));
    const signals = await inMemory(store, goldenSignalsProjection);
    const live = runner.read(goldenSignalsProjection);
    expect(goldenSignalQueries.groups(live)).toEqual(goldenSignalQueries.groups(signals));
    for (const g of goldenSignalQueries.groups(signals)) expect(goldenSignalQueries.signals(live, g)).toEqual(goldenSignalQueries.signals(signals, g));
  });

  it('a cursor keeps its place while runs are inserted: no run twice, none skipped, newer ones before the cursor', async () => {
    const q = { first: 9 };
    const first = readRuns(services, q);
    const cursor = first.pageInfo.endCursor as string;
    const seen = first.edges.map((e) => e.node.runId);
    // New runs start both before and after the cursor's time while the client pages on.
    let after: string | undefined = cursor;
    for (let n = 0; ; n++) {
      if (n < 6) {
        await append(store, clock, runEvents(n, `new${n}`, n % 2 ? 200_000 : Math.floor(((n * 7919) % RUNS) / 2) * 1000 + 1));
        await runner.waitFor((await store.headPosition()) as string, 10_000);
      }
      const page = readRuns(services, { ...q, after });
      seen.push(...page.edges.map((e) => e.node.runId));
      if (!page.pageInfo.hasNextPage) break;
      after = page.pageInfo.endCursor;
    }
    expect(new Set(seen).size).toBe(seen.length);
    const reference = [...(await inMemory(store, runsProjection)).runs.values()];
    const start = decodeKey(cursor);
    // Everything at or before the first page's cursor as it was, then everything after it as it is now.
    const afterCursor = referenceRuns(reference, { first: 10_000, after: cursor }).ids;
    expect(seen).toEqual([...first.edges.map((e) => e.node.runId), ...afterCursor]);
    expect(afterCursor.some((id) => id.startsWith('new'))).toBe(true);
    expect(seen.filter((id) => id.startsWith('new')).every((id) => afterCursor.includes(id))).toBe(true);
    expect(start[0] < iso(200_000)).toBe(true);
  });

  it('a restart on the same file loads no paged-out document, and answers the same with the cache within its bound', async () => {
    const before = allPages(services, { first: 13 }).ids;
    const runs = before.map((id) => canonicalJson(runsOf(runner, id)));
    await runner.stop();
    const again = new ProjectionRunner({ store, readModels, projections: allProjections, cacheSize: CACHE });
    await again.start();
    await again.waitFor((await store.headPosition()) as string, 10_000);
    // Nothing paged out was loaded at start: only the resident collections are in memory.
    expect(pagedOut(again).map((c) => c.resident)).toEqual(pagedOut(again).map(() => 0));
    const servicesAgain = { projections: again, now: () => iso(500_000) } as unknown as GatehouseServices;
    expect(allPages(servicesAgain, { first: 13 }).ids).toEqual(before);
    expect(before.map((id) => canonicalJson(runsOf(again, id)))).toEqual(runs);
    for (const id of before) budgetQueries.run(again.read(budgetsProjection), id);
    // Every run was read, by id and by list: the caches never held more than their bound.
    for (const c of pagedOut(again)) expect(c.resident).toBeLessThanOrEqual(CACHE);
    await again.stop();
    runner = again;
  });

  it('totalCount after a rebuild (the table emptied and refilled) is the old code\'s for every filter', async () => {
    await runner.start();
    await runner.rebuild('runs');
    const reference = [...(await inMemory(store, runsProjection)).runs.values()];
    const rebuilt = { projections: runner, now: () => iso(500_000) } as unknown as GatehouseServices;
    for (const status of [undefined, ...STATUSES])
      for (const profile of [undefined, ...PROFILES])
        for (const requester of [undefined, ...REQUESTERS.map((r) => r.id)]) {
          const q = { status, profile, requester, first: 1 };
          expect(readRuns(rebuilt, q).count(), JSON.stringify(q)).toBe(referenceRuns(reference, q).totalCount);
        }
    await runner.stop();
  });
});

function runsOf(runner: ProjectionRunner, runId: string): RunView | undefined {
  return runner.read(runsProjection).runs.get(runId);
}
