/**
 * Read models on the SQLite file store.
 * - rebuild: all four read models from EVENTS events, next to raw better-sqlite3 reading the same
 *   rows (pages of 512, row objects, data and metadata JSON.parse'd into an object per event) in
 *   the same run; medians of PROJECTIONS_BENCH_ROUNDS (3) rounds, of wall time and of this
 *   process's CPU time (the CPU ratio holds up better on cores shared with other work).
 * - live lag: the runner follows the log while the real engine runs 5-step runs in the same
 *   process; lag = from an append's promise resolving to the runner having applied its position.
 *
 * How the 1,000,000 events are made: see bench/support/run-templates.ts (copies of four template runs,
 * appended in group commits).
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { type RawRow } from './support/sample.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import Database from 'better-sqlite3';
import * as hdr from 'hdr-histogram-js';
import { createSqliteEventStore } from '../src/adapters/eventstore/sqlite/sqlite-event-store.js';
import { sqliteRebuildWorker } from '../src/adapters/readmodels/rebuild-worker.js';
import { createSqliteReadModelStore } from '../src/adapters/readmodels/sqlite-read-model-store.js';
import type { EventStore } from '../src/domain/ports/event-store.js';
import type { RebuildWorker } from '../src/projections/runner/replay.js';
import { TERMINAL_RUN } from '../src/domain/run/state.js';
import { Orchestrator } from '../src/orchestrator/api.js';
import { RunEngine } from '../src/orchestrator/engine.js';
import { ToolRegistry } from '../src/orchestrator/tools/tool.js';
import { allProjections, ProjectionRunner, type ReadModelStore } from '../src/projections/index.js';
import { alice, benchTools as tools, chain, fillFile, makeTemplates } from './support/run-templates.js';
import { printTable } from './support/table.js';

const EVENTS = Number(process.env.PROJECTIONS_BENCH_EVENTS ?? 1_000_000);
const LIVE_RUNS = 3_000;
const IN_FLIGHT = Number(process.env.PROJECTIONS_BENCH_IN_FLIGHT ?? 10);
const ROUNDS = Number(process.env.PROJECTIONS_BENCH_ROUNDS ?? 3);
/** The runner's `maxBatch` for the full rebuilds (default: the runner's own), to compare batch sizes. */
const MAX_BATCH = process.env.PROJECTIONS_BENCH_MAX_BATCH ? Number(process.env.PROJECTIONS_BENCH_MAX_BATCH) : undefined;
/** The generated log's first run; each run after it 1 ms later (group by group). */
const HISTORY_START = Date.parse('2025-03-01T00:00:00Z');

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}
function countEvents(path: string): number {
  const db = new Database(path, { readonly: true });
  const n = db.prepare('SELECT count(*) FROM events').pluck().get() as number;
  db.close();
  return n;
}

/**
 * The baseline, as the issue defines it and bench/store.ts's raw readAll does: the same rows read
 * with better-sqlite3 (pages of 512, as row objects) and data and metadata JSON.parse'd into an
 * object per event.
 */
function rawRead(path: string, types?: readonly string[]): number {
  const db = new Database(path, { readonly: true });
  const only = types ? `type IN (${types.map(() => '?').join(', ')}) AND ` : '';
  const select = db.prepare<unknown[], RawRow>(
    `SELECT position, stream_id, revision, event_id, type, data, metadata, recorded_at FROM events WHERE ${only}position > ? ORDER BY position LIMIT ?`,
  );
  let after = 0;
  let count = 0;
  let event: unknown;
  for (;;) {
    const page = select.all(...(types ?? []), after, 512);
    if (page.length === 0) break;
    for (const r of page) event = { ...r, data: JSON.parse(r.data) as unknown, metadata: JSON.parse(r.metadata) as unknown };
    count += page.length;
    after = (page[page.length - 1] as RawRow).position;
  }
  db.close();
  return event === undefined ? 0 : count;
}


/** This process's CPU time (user + system) in ms: what a run costs whatever else shares the cores. */
function cpuMs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

/** What one rebuild cost: wall ms, and ms inside read-model commits per thread (lock waits included). */
interface RebuildCost {
  ms: number;
  commitMs: number;
  threadCommitMs: number;
}

/**
 * What `gatehouse projections rebuild` does: a runner of its own replays the log into every model,
 * with the runs model in a second thread (`thread`) or everything in this one.
 */
async function rebuildOnce(store: EventStore, path: string, cpu: number[], thread: boolean): Promise<RebuildCost> {
  const inner = createSqliteReadModelStore({ path });
  const cost = { ms: 0, commitMs: 0, threadCommitMs: 0 };
  // Commits of this thread timed: with a second writer on the file they include its lock waits.
  const readModels: ReadModelStore = {
    ...inner,
    commit: (commits) => {
      const t = performance.now();
      inner.commit(commits);
      cost.commitMs += performance.now() - t;
    },
  };
  const sqlite = sqliteRebuildWorker({ eventStorePath: path, readModelsPath: path });
  const rebuildWorker: RebuildWorker | undefined = thread
    ? {
        projections: sqlite.projections,
        start: (job) => {
          const started = sqlite.start(job);
          void started.outcome.then((o) => { if (o.ok) cost.threadCommitMs = o.commitMs; }, () => {});
          return started;
        },
      }
    : undefined;
  const runner = new ProjectionRunner({ store, readModels, projections: allProjections, rebuildWorker, ...(MAX_BATCH === undefined ? {} : { maxBatch: MAX_BATCH }) });
  const c = cpuMs();
  const start = performance.now();
  await runner.rebuild();
  cost.ms = performance.now() - start;
  cpu.push(cpuMs() - c);
  await runner.stop();
  inner.close();
  return cost;
}

/**
 * `gatehouse projections rebuild <name>`: one projection replayed while the others stay as they
 * are (a runner loaded from the models the full rebuild stored). Returns its rebuild time and how
 * many events of its types the log holds.
 */
async function rebuildAlone(store: EventStore, path: string, name: string): Promise<{ ms: number; events: number }> {
  const readModels = createSqliteReadModelStore({ path });
  const runner = new ProjectionRunner({ store, readModels, projections: allProjections });
  await runner.start();
  let events = 0;
  const start = performance.now();
  await runner.rebuild(name, (p) => (events = p.events));
  const ms = performance.now() - start;
  await runner.stop();
  readModels.close();
  return { ms, events };
}

async function liveLag(dir: string) {
  const path = join(dir, 'live.sqlite');
  const store = createSqliteEventStore({ path });
  const readModels = createSqliteReadModelStore({ path });
  const runner = new ProjectionRunner({ store, readModels, projections: allProjections });
  await runner.start();
  const lags = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: 3 });
  const waits: Promise<void>[] = [];
  // Every append the engine makes: from its promise resolving to the runner having applied it.
  const measured: EventStore = Object.create(store, {
    append: {
      value: async (...args: Parameters<EventStore['append']>) => {
        const result = await store.append(...args);
        const t0 = performance.now();
        waits.push(runner.waitFor(result.position, 30_000).then(() => lags.recordValue(Math.max(1, Math.round((performance.now() - t0) * 1000)))));
        return result;
      },
    },
  });
  const registry = new ToolRegistry(tools);
  const engine = new RunEngine({ store: measured, tools: registry });
  const api = new Orchestrator({ engine, tools: registry });
  const steps = chain(['noop', 'noop', 'noop', 'noop', 'noop']);
  const one = async (i: number) => {
    await api.startRun({ runId: `live-${i}`, goal: 'bench', profile: 'technical', steps }, alice);
    await engine.waitFor(`live-${i}`, (s) => TERMINAL_RUN.has(s.status), 30_000);
  };
  for (let i = 0; i < 100; i++) await one(-1 - i); // warm-up
  await Promise.all(waits.splice(0));
  lags.reset();
  const start = performance.now();
  let next = 0;
  await Promise.all(Array.from({ length: IN_FLIGHT }, async () => { while (next < LIVE_RUNS) await one(next++); }));
  const ms = performance.now() - start;
  await Promise.all(waits);
  await engine.close();
  await runner.stop();
  readModels.close();
  await store.close();
  return { runsPerSecond: Math.round((LIVE_RUNS / ms) * 1000), p50: lags.getValueAtPercentile(50) / 1000, p99: lags.getValueAtPercentile(99) / 1000, max: lags.maxValue / 1000, samples: lags.totalCount };
}

export async function run(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-bench-projections-'));
  try {
    // PROJECTIONS_BENCH_DB: keep the generated log in this file and reuse it (for profiling runs).
    const keep = process.env.PROJECTIONS_BENCH_DB;
    const path = keep ?? join(dir, 'events.sqlite');
    const g0 = performance.now();
    const events = keep && existsSync(keep) ? countEvents(keep) : (await fillFile(path, { templates: await makeTemplates(dir), from: 0, events: EVENTS }, (n) => new Date(HISTORY_START + n))).events;
    const genMs = performance.now() - g0;
    if (process.env.PROJECTIONS_BENCH_REBUILD === '0') {
      await printLive(dir);
      return;
    }
    const store = createSqliteEventStore({ path });
    const rawMs: number[] = [];
    const rawCpu: number[] = [];
    // Both ways in every round, interleaved, so both see the same load: the runs model in a second
    // thread (the default), and everything in this thread (as before; PROJECTIONS_BENCH_THREAD=0
    // measures only that, =1 only the thread).
    const ways = [
      { name: 'rebuild(), runs model in a second thread', thread: true, costs: [] as RebuildCost[], cpu: [] as number[] },
      { name: 'rebuild(), all in one thread', thread: false, costs: [] as RebuildCost[], cpu: [] as number[] },
    ].filter((w) => (process.env.PROJECTIONS_BENCH_THREAD === '0' ? !w.thread : process.env.PROJECTIONS_BENCH_THREAD === '1' ? w.thread : true));
    rawRead(path); // warm the page cache
    for (let round = 0; round < ROUNDS; round++) {
      const c = cpuMs();
      const t = performance.now();
      rawRead(path);
      rawMs.push(performance.now() - t);
      rawCpu.push(cpuMs() - c);
      for (const way of ways) way.costs.push(await rebuildOnce(store, path, way.cpu, way.thread));
    }
    await store.close();
    const rawRate = (events / median(rawMs)) * 1000;
    const rawCpuRate = (events / median(rawCpu)) * 1000;
    // CPU time beside wall time: on cores shared with other work the wall ratio swings with load.
    // It is the whole process's (both threads): a second thread adds wall speed, not CPU thrift.
    printTable(`projections: rebuild of all 4 read models from ${events.toLocaleString('en-US')} events (SQLite file; median of ${ROUNDS}; generated in ${(genMs / 1000).toFixed(1)} s)`, [
      { what: 'raw better-sqlite3 read + JSON.parse', 'events/s': Math.round(rawRate), ratio: '100 %', 'events per CPU s': Math.round(rawCpuRate), 'CPU ratio': '100 %', 'commit ms (main / thread)': '-', target: '-' },
      ...ways.map((way) => {
        const rate = (events / median(way.costs.map((c) => c.ms))) * 1000;
        const cpuRate = (events / median(way.cpu)) * 1000;
        const commits = `${Math.round(median(way.costs.map((c) => c.commitMs)))} / ${way.thread ? Math.round(median(way.costs.map((c) => c.threadCommitMs))) : '-'}`;
        return { what: way.name, 'events/s': Math.round(rate), ratio: `${Math.round((rate / rawRate) * 100)} %`, 'events per CPU s': Math.round(cpuRate), 'CPU ratio': `${Math.round((cpuRate / rawCpuRate) * 100)} %`, 'commit ms (main / thread)': commits, target: '≥ 150,000 events/s, ≥ 60 %' };
      }),
    ]);
    if (process.env.PROJECTIONS_BENCH_EACH !== '0') {
      // One round each (a full median would take minutes more): raw reading only the projection's
      // event types, then rebuild(name), which reads only those types and leaves the others alone.
      const rows = [];
      const alone = createSqliteEventStore({ path });
      for (const p of allProjections) {
        const t = performance.now();
        const rawEvents = rawRead(path, p.eventTypes);
        const rawOnly = (rawEvents / (performance.now() - t)) * 1000;
        const { ms, events: applied } = await rebuildAlone(alone, path, p.name);
        const rate = (applied / ms) * 1000;
        rows.push({ projection: p.name, 'events of its types': rawEvents, 'raw read + parse of them, events/s': Math.round(rawOnly), 'rebuild(name) events/s': Math.round(rate), ratio: `${Math.round((rate / rawOnly) * 100)} %`, 'all events / rebuild s': Math.round((events / ms) * 1000) });
      }
      await alone.close();
      printTable(`projections: each read model rebuilt alone, reading only its event types (one round each; "all events / rebuild s" = the log's ${events.toLocaleString('en-US')} events over its rebuild time)`, rows);
    }
    if (process.env.PROJECTIONS_BENCH_LIVE === '0') return;
    await printLive(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function printLive(dir: string): Promise<void> {
  const live = await liveLag(dir);
  printTable(`projections: live lag while the engine runs ${LIVE_RUNS.toLocaleString('en-US')} 5-step runs (${IN_FLIGHT} in flight), runner in the same process`, [
    { 'engine runs/s': live.runsPerSecond, 'appends measured': live.samples, 'lag p50 ms': live.p50, 'lag p99 ms': live.p99, 'lag max ms': live.max, target: 'p99 ≤ 5 ms at ~1,000 runs/s' },
  ]);
}
