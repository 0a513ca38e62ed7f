/**
 * The in-process cost curves (`npm run bench -- curves`): the real RunEngine (follower started,
 * as the server starts it) on a SQLite file store, no-op tools, runs one after the other.
 * - steps: time per step for runs of 5, 50 and 500 steps;
 * - history: one 5-step run's latency with 10k, 100k and 1M events already in the store.
 */
import { copyFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createSqliteEventStore } from '../../src/adapters/eventstore/sqlite/sqlite-event-store.js';
import type { EventStore } from '../../src/domain/ports/event-store.js';
import { TERMINAL_RUN } from '../../src/domain/run/state.js';
import { Orchestrator } from '../../src/orchestrator/api.js';
import { RunEngine } from '../../src/orchestrator/engine.js';
import { ToolRegistry } from '../../src/orchestrator/tools/tool.js';
import { alice, appendCopies, benchTools as tools, chain, makeTemplates } from './run-templates.js';
import { median, percentile } from './measure.js';
import { timedStore } from './timed-store.js';

/** One measured input of a curve: its label, the sample count, and the samples' median and p99. */
export interface CurvePoint {
  readonly input: string;
  readonly n: number;
  readonly p50: number;
  readonly p99: number;
  /** Further columns for the table (e.g. a run's whole duration). */
  readonly extra?: Readonly<Record<string, string | number>>;
}

/** A summary of samples as a curve point. */
export function point(input: string, samples: readonly number[], extra?: Record<string, string | number>): CurvePoint {
  return { input, n: samples.length, p50: median(samples), p99: percentile(samples, 99), ...(extra ? { extra } : {}) };
}

/** An engine and its API on `store`, started as the server starts it (its follower reading the log). */
async function engineOn(raw: EventStore) {
  const registry = new ToolRegistry(tools);
  // Timed: the wall time a run spends inside the store's calls (append, readStream, …) is told apart.
  const { store, elapsedMs: storeMs, reset: resetStoreMs } = timedStore(raw);
  const engine = new RunEngine({ store, tools: registry, onError: (e) => console.error(e) });
  const startMs = await (async () => { const t = performance.now(); await engine.start(); return performance.now() - t; })();
  const api = new Orchestrator({ engine, tools: registry });
  const runOne = async (runId: string, steps: ReturnType<typeof chain>) => {
    const t0 = performance.now();
    await api.startRun({ runId, goal: 'curve', profile: 'technical', steps }, alice);
    await engine.waitFor(runId, (s) => TERMINAL_RUN.has(s.status), 600_000);
    return performance.now() - t0;
  };
  return { engine, runOne, startMs, storeMs, resetStoreMs };
}

/** CPU milliseconds (user + system) this process has used so far. */
export function cpuMs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

/**
 * Runs `rounds` rounds; in each, every contender runs its share, in an order that rotates from
 * round to round: the machine's load (shared by other work) then hits every input alike, instead
 * of whichever input happened to run during a busy minute.
 */
async function interleave(rounds: number, contenders: ReadonlyArray<() => Promise<void>>): Promise<void> {
  for (let r = 0; r < rounds; r++) {
    for (let k = 0; k < contenders.length; k++) await (contenders[(r + k) % contenders.length] as () => Promise<void>)();
  }
}

/**
 * Time per step (ms) for runs of each size in `sizes`, each size on a store and engine of its own;
 * about `stepBudget` steps are measured per size (at least 10 runs), interleaved in 10 rounds,
 * after a warm-up of a tenth as many. Beside it, the process's CPU time per step.
 */
export async function stepsCurve(dir: string, sizes: readonly number[], stepBudget: number): Promise<CurvePoint[]> {
  const rounds = 10;
  const sides = await Promise.all(sizes.map(async (size) => {
    const store = createSqliteEventStore({ path: join(dir, `steps-${size}.sqlite`) });
    const { engine, runOne } = await engineOn(store);
    const steps = chain(Array.from({ length: size }, () => 'noop'));
    const perRound = Math.max(1, Math.round(stepBudget / size / rounds));
    for (let i = 0; i < Math.max(1, Math.round(perRound / 10)); i++) await runOne(`w${size}-${i}`, steps);
    return { size, store, engine, runOne, steps, perRound, perStep: [] as number[], whole: [] as number[], cpu: 0 };
  }));
  await interleave(rounds, sides.map((side) => async () => {
    const c0 = cpuMs();
    for (let i = 0; i < side.perRound; i++) {
      const ms = await side.runOne(`s${side.size}-${side.whole.length}`, side.steps);
      side.whole.push(ms);
      side.perStep.push(ms / side.size);
    }
    side.cpu += cpuMs() - c0;
  }));
  for (const side of sides) {
    await side.engine.close();
    await side.store.close();
  }
  return sides.map((side) => point(`${side.size} steps`, side.perStep, { runs: side.whole.length, 'run p50 ms': median(side.whole), 'CPU ms per step': side.cpu / (side.whole.length * side.size) }));
}

/**
 * One 5-step run's latency (ms) with each count in `histories` of events already in the store:
 * one file grown by copies of template runs (group commits) and copied aside at each count, then
 * an engine started on each copy (its start-up time beside), 5 warm-up runs each, and `runs`
 * measured runs per count, interleaved in 10 rounds.
 */
export async function historyCurve(dir: string, histories: readonly number[], runs: number): Promise<CurvePoint[]> {
  const path = join(dir, 'history.sqlite');
  const kinds = await makeTemplates(dir);
  const copies: Array<{ size: number; path: string; fillMs: number }> = [];
  let held = 0;
  let nextRun = 0;
  for (const size of histories) {
    const fill = createSqliteEventStore({ path });
    const f0 = performance.now();
    const grown = await appendCopies(fill, { templates: kinds, from: nextRun, events: size - held });
    const fillMs = performance.now() - f0;
    await fill.close();
    held += grown.events;
    nextRun = grown.nextRun;
    const copy = join(dir, `history-${size}.sqlite`);
    copyFileSync(path, copy); // closed: SQLite has checkpointed its WAL into the file
    copies.push({ size, path: copy, fillMs });
  }
  rmSync(path, { force: true });
  const steps = chain(['noop', 'noop', 'noop', 'noop', 'noop']);
  const sides = [];
  for (const c of copies) {
    const store = createSqliteEventStore({ path: c.path });
    const { engine, runOne, startMs, storeMs, resetStoreMs } = await engineOn(store);
    for (let i = 0; i < 5; i++) await runOne(`h-w${i}`, steps);
    resetStoreMs();
    sides.push({ ...c, store, engine, runOne, startMs, storeMs, samples: [] as number[], cpu: 0 });
  }
  const perRound = Math.max(1, Math.round(runs / 10));
  await interleave(10, sides.map((side) => async () => {
    const c0 = cpuMs();
    for (let i = 0; i < perRound; i++) side.samples.push(await side.runOne(`h-${side.samples.length}`, steps));
    side.cpu += cpuMs() - c0;
  }));
  for (const side of sides) {
    await side.engine.close();
    await side.store.close();
  }
  return sides.map((side) => point(`${side.size.toLocaleString('en-US')} events`, side.samples, { 'CPU ms per run': side.cpu / side.samples.length, 'store ms per run': side.storeMs() / side.samples.length, 'fill s': Math.round(side.fillMs / 100) / 10, 'engine start ms': Math.round(side.startMs) }));
}
