/**
 * One Gatehouse process for `npm run bench -- api`, composed as `npm start` composes it
 * (startGatehouse, environment as the server's) with two bench tools instead of the demo tools.
 * BENCH_API_MODE=server: serves HTTP until SIGTERM (the HTTP clients run in the parent process).
 * BENCH_API_MODE=inproc: the baseline. The same composition, but the runs are started through the
 * in-process API (no HTTP, no GraphQL), 10 in flight and then one at a time; prints one JSON line.
 */
import 'reflect-metadata';
import '../../src/server/node-env.js';
import { randomUUID } from 'node:crypto';
import { monitorEventLoopDelay, performance, PerformanceObserver } from 'node:perf_hooks';
import { pino } from 'pino';
import { z } from 'zod';
import type { RunState } from '../../src/domain/run/state.js';
import { TERMINAL_RUN } from '../../src/domain/run/state.js';
import { onShutdownSignals } from '../../src/orchestrator/shutdown.js';
import { defineTool } from '../../src/orchestrator/tools/tool.js';
import { startGatehouse } from '../../src/server/app.js';
import { readEnv } from '../../src/server/env.js';
import { REQUESTERS, STEPS } from './api-shared.js';

const Any = z.record(z.string(), z.unknown());
const tools = [
  defineTool({ name: 'bench.noop', description: 'answers at once', input: Any, domain: 'bench', idempotent: true, timeoutMs: 5_000, action: { category: 'file', operation: 'read' }, handler: (input) => ({ n: input.n }) }),
  defineTool({ name: 'bench.gated', description: 'gated, answers at once', input: Any, domain: 'bench', idempotent: true, timeoutMs: 5_000, action: { category: 'deploy', operation: 'release', environment: 'staging' }, approval: { eligibleRoles: ['tech_lead'] }, handler: () => ({ ok: true }) }),
];

// Garbage-collection pauses stop the event loop too: counted per span beside the delay they cause.
const gc = { count: 0, ms: 0, max: 0 };
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) {
    gc.count++;
    gc.ms += e.duration;
    gc.max = Math.max(gc.max, e.duration);
  }
}).observe({ entryTypes: ['gc'] });
// How long callbacks waited for the event loop (a long synchronous stretch delays every request
// behind it): read and reset by each `cpu` report, so it covers the span between two reports.
const loopDelay = monitorEventLoopDelay({ resolution: 1 });
loopDelay.enable();
/** The event-loop delay since the last call (ms), then starts a new span. */
function loopDelaySpan(): LoopDelay {
  const ms = (ns: number) => Math.round(ns / 1e4) / 100;
  const span = { p50: ms(loopDelay.percentile(50)), p99: ms(loopDelay.percentile(99)), max: ms(loopDelay.max), gcPauses: gc.count, gcMs: Math.round(gc.ms), gcMaxMs: Math.round(gc.max * 100) / 100 };
  loopDelay.reset();
  Object.assign(gc, { count: 0, ms: 0, max: 0 });
  return span;
}
/** Event-loop delay percentiles over a span, and the GC pauses in it (ms). */
interface LoopDelay { p50: number; p99: number; max: number; gcPauses: number; gcMs: number; gcMaxMs: number }

const env = readEnv();
const log = pino({ level: env.logLevel });
const app = await startGatehouse({ env, log, tools, demoTools: false });

if (process.env.BENCH_API_MODE === 'inproc') {
  const runs = Number(process.env.BENCH_API_RUNS ?? 500);
  const result = await inProcess(runs);
  await app.stop();
  process.stdout.write(`${JSON.stringify(result)}\n`);
  process.exit(0);
} else {
  onShutdownSignals(app.stop, (message) => log.info(message));
  // The parent asks for this process's CPU time around a pass: less noisy than wall time on a shared machine.
  if (process.env.BENCH_API_STALLS) recordStalls();
  else process.on('SIGUSR2', () => void process.stdout.write(`cpu ${JSON.stringify({ ...process.cpuUsage(), loop: loopDelaySpan() })}\n`));
  process.stdout.write(`gatehouse ready on http://127.0.0.1:${app.server.port}/graphql\n`);
}

/** The in-process baseline: the same runs as the HTTP clients start, through `Orchestrator.startRun`. */
async function inProcess(runs: number): Promise<{ tenInFlight: { runsPerSecond: number; startMs: number[]; cpuMsPerRun: number; loop: LoopDelay }; serial: { runsPerSecond: number; startMs: number[]; cpuMsPerRun: number; loop: LoopDelay } }> {
  // Told after every append this engine makes: a run's end is known without polling.
  const waiting = new Map<string, (state: RunState) => void>();
  app.services.orchestrator.onRunChange((runId, state) => {
    if (TERMINAL_RUN.has(state.status)) waiting.get(runId)?.(state);
  });
  const one = async (requester: number, startMs: number[]) => {
    const runId = randomUUID();
    const done = new Promise<RunState>((resolve) => waiting.set(runId, resolve));
    const t0 = performance.now();
    await app.services.orchestrator.startRun({ runId, goal: 'bench', profile: 'technical', steps: STEPS }, { id: (REQUESTERS[requester] ?? REQUESTERS[0])!.id, role: 'requester' });
    startMs.push(performance.now() - t0);
    const state = await done;
    waiting.delete(runId);
    if (state.status !== 'SUCCEEDED') throw new Error(`run ${runId} ended ${state.status}`);
  };
  const pass = async (inFlight: number, total: number) => {
    const startMs: number[] = [];
    let next = 0;
    const cpu0 = process.cpuUsage();
    loopDelaySpan();
    const t0 = performance.now();
    await Promise.all(Array.from({ length: inFlight }, async (_, c) => {
      while (next < total) {
        next++;
        await one(c, startMs);
      }
    }));
    const cpu = process.cpuUsage(cpu0);
    return { runsPerSecond: (total / (performance.now() - t0)) * 1000, startMs, cpuMsPerRun: (cpu.user + cpu.system) / 1000 / total, loop: loopDelaySpan() };
  };
  await pass(10, 200); // warm-up: JIT, statement caches
  const tenInFlight = await pass(10, runs);
  const serial = await pass(1, Math.max(50, Math.round(runs / 5)));
  return { tenInFlight, serial };
}

/**
 * Diagnosis (BENCH_API_STALLS, used by approve-stalls.ts): every gap over 3 ms between 1 ms timer
 * ticks and every GC entry, on the monotonic clock (ms) that `--cpu-prof` timestamps use; SIGUSR2
 * prints those since the last SIGUSR2 as one `stalls` line.
 */
function recordStalls(): void {
  const now = () => Number(process.hrtime.bigint()) / 1e6;
  const offset = now() - performance.now();
  let stalls: Array<{ from: number; to: number }> = [];
  let gcs: Array<{ start: number; ms: number; kind: number }> = [];
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) gcs.push({ start: e.startTime + offset, ms: e.duration, kind: ((e as unknown as { detail?: { kind?: number } }).detail?.kind ?? 0) });
  }).observe({ entryTypes: ['gc'] });
  let last = now();
  setInterval(() => {
    const t = now();
    if (t - last > 4) stalls.push({ from: last, to: t });
    last = t;
  }, 1).unref();
  process.on('SIGUSR2', () => {
    process.stdout.write(`stalls ${JSON.stringify({ stalls, gcs })}\n`);
    stalls = [];
    gcs = [];
  });
}
