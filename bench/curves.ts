/**
 * `npm run bench -- curves`: how costs grow, written to docs/performance.md with SVG charts under
 * docs/performance/ (drawn here, bench/support/svg-chart.ts). Four curves, each against its own
 * first input measured in the same run:
 * - time per step for runs of 5, 50 and 500 steps (target: 500 within 1.5× of 5);
 * - a 5-step run's latency with 10k, 100k and 1M events already in the store (target: within 1.2×);
 * - append → last of 10, 100 and 1,000 graphql-ws subscribers (targets p99 ≤ 10, 10, 50 ms);
 * - the approve round trip with 0, 100 and 1,000 approvals open.
 * Scale down with CURVES_* variables (below); CURVES_ONLY=steps,history,fanout,approvals picks
 * curves; CURVES_DOCS=<dir> writes elsewhere than docs/ (for trial runs); CURVES_RENDER_ONLY=1
 * re-renders the markdown from the last run's docs/performance/curves.json (after editing the notes).
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { type CurvePoint, historyCurve, stepsCurve } from './support/curve-engine.js';
import { notes } from './support/curve-notes.js';
import { type Curve, writeReport } from './support/curve-report.js';
import { approvalsCurve, benchServer, fanOutCurve } from './support/curve-server.js';
import { swarmProcesses } from './support/fan-out.js';
import { printTable } from './support/table.js';

const list = (name: string, fallback: string) => (process.env[name] ?? fallback).split(',').map(Number);
const config = {
  steps: list('CURVES_STEPS', '5,50,500'),
  stepBudget: Number(process.env.CURVES_STEP_BUDGET ?? 5_000),
  history: list('CURVES_HISTORY', '10000,100000,1000000'),
  historyRuns: Number(process.env.CURVES_HISTORY_RUNS ?? 200),
  subscribers: list('CURVES_SUBSCRIBERS', '10,100,1000'),
  fanOutAppends: Number(process.env.CURVES_FANOUT_APPENDS ?? 200),
  open: list('CURVES_OPEN_APPROVALS', '0,100,1000'),
  approveSamples: Number(process.env.CURVES_APPROVE_SAMPLES ?? 200),
};
type Config = typeof config;
const ONLY = new Set((process.env.CURVES_ONLY ?? 'steps,history,fanout,approvals').split(','));
const DOCS = resolve(process.env.CURVES_DOCS ?? 'docs');

/** What one run measured: enough to render the markdown again without measuring. */
interface Measured {
  readonly date: string;
  readonly node: string;
  readonly cores: number;
  readonly loadBefore: string;
  readonly loadAfter: string;
  readonly minutes: string;
  readonly config: Config;
  readonly points: Partial<Record<CurveId, CurvePoint[]>>;
}
type CurveId = 'steps' | 'history' | 'fanout' | 'approvals';

const ratio = (points: readonly CurvePoint[], limit: number) => {
  const first = points[0];
  const last = points[points.length - 1];
  return first !== undefined && last !== undefined && last.p50 <= first.p50 * limit;
};
const n = (v: number | undefined) => (v ?? 0).toLocaleString('en-US');
const fanOutTarget = (subscribers: number) => (subscribers <= 100 ? 10 : 50);

/** Each curve's title, method, target and notes, for the inputs `c` asks for. */
function definitions(c: Config): Record<CurveId, Omit<Curve, 'points'>> {
  return {
    steps: {
      key: 'steps', title: 'Time per step vs steps per run', xLabel: 'steps per run', yLabel: 'ms per step (run time ÷ steps)',
      method: `The in-process engine (follower started, as the server starts it) on a SQLite file (default durability), a chain of no-op steps each depending on the one before; a sample is one run's time from \`startRun\` to SUCCEEDED divided by its steps. About ${n(c.stepBudget)} steps per size, each size on its own store and engine, the sizes interleaved in 10 rounds (runs one after the other) after a tenth as many warm-up. Beside it, this process's CPU time per step over the same runs. Baseline: the ${c.steps[0]}-step figure.`,
      target: `p50 per step at ${c.steps[c.steps.length - 1]} steps ≤ 1.5× the ${c.steps[0]}-step figure (a run's cost linear in its steps)`,
      met: (p) => ratio(p, 1.5), notes: notes.steps,
    },
    history: {
      key: 'history', title: 'Run latency vs events already in the store', xLabel: 'events in the store', yLabel: 'ms per 5-step run',
      method: `One SQLite file grown by copies of four template runs (bench/support/run-templates.ts: group commits of 200 runs), copied aside at each size; an engine started on each copy (start-up time beside: the follower's recovery read), 5 warm-up runs each, then ${n(c.historyRuns)} 5-step no-op runs per size, interleaved in 10 rounds, each timed from \`startRun\` to SUCCEEDED. Baseline: the ${n(c.history[0])}-event figure.`,
      target: `p50 at ${n(c.history[c.history.length - 1])} events ≤ 1.2× the figure at ${n(c.history[0])}`,
      met: (p) => ratio(p, 1.2), notes: notes.history,
    },
    fanout: {
      key: 'fan-out', title: 'Event → last subscriber vs graphql-ws subscribers', xLabel: 'subscribers of one run', yLabel: 'ms, append → last subscriber has it',
      method: `The server started in the bench process (startGatehouse: SQLite, read models, engine, graphql-ws); the subscribers in ${swarmProcesses()} child processes (bench/support/subscriber-swarm.ts, \`FANOUT_SWARMS\`), one WebSocket each speaking graphql-transport-ws, all subscribed to \`runEvents\` of one run paused at its gate. ${n(c.fanOutAppends)} one-event appends (after 10 warm-up), one at a time, each timed from just before \`store.append\` in the server's process to the moment the last subscriber has it (the machine's monotonic clock, \`process.hrtime\`, in both processes). After each append, the baseline: a plain \`ws\` server in the same process sends the same bytes (serialized once) to as many sockets of the same subscriber processes (bench/support/fan-out.ts). Beside it, CPU time of the server and of the subscribers' processes per delivered message. Baseline of the curve: the ${c.subscribers[0]}-subscriber figure.`,
      target: c.subscribers.map((s) => `p99 ≤ ${fanOutTarget(s)} ms at ${n(s)}`).join(', '),
      met: (p) => p.every((pt, i) => pt.p99 <= fanOutTarget(c.subscribers[i] as number)),
      targetLine: { value: 50, label: '50 ms (1,000)' }, notes: notes.fanOut,
    },
    approvals: {
      key: 'approvals', title: 'Approve round trip vs open approvals', xLabel: 'approvals open', yLabel: 'ms, approve mutation over HTTP',
      method: `The same server; open approvals are gated runs started over HTTP by holder requesters (5 each, the developer's pending limit) and left open. Per size, ${n(c.approveSamples)} gated runs (after 20 warm-up) started by a developer and approved by a tech lead over HTTP, one at a time; a sample is the \`approve\` mutation's round trip (it answers once its own read models have the grant: read-your-writes). Beside it, approve sent → ToolCallStarted read from the store. Read models are held in memory today (the rm work moves them into SQLite tables; re-run this curve after it lands). Baseline: ${n(c.open[0])} open.`,
      target: 'flat: p50 at the largest size ≤ 1.2× the figure at the first; and p99 ≤ 5 ms at every size (issue #16 item 5\'s approve target)',
      met: (p) => ratio(p, 1.2) && p.every((pt) => pt.p99 <= 5), notes: notes.approvals,
    },
  };
}

const load = () => loadavg().map((l) => l.toFixed(1)).join(' / ');
const saved = () => join(DOCS, 'performance', 'curves.json');

export async function run(): Promise<void> {
  if (process.env.CURVES_RENDER_ONLY === '1') return render(JSON.parse(readFileSync(saved(), 'utf8')) as Measured);
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-bench-curves-'));
  const loadBefore = load();
  const t0 = performance.now();
  const points: Partial<Record<CurveId, CurvePoint[]>> = {};
  const show = (id: CurveId, measured: CurvePoint[]) => {
    points[id] = measured;
    printTable(definitions(config)[id].title, measured.map((p) => ({ input: p.input, samples: p.n, 'p50 ms': p.p50, 'p99 ms': p.p99, ...p.extra })));
  };
  try {
    if (ONLY.has('steps')) show('steps', await stepsCurve(dir, config.steps, config.stepBudget));
    if (ONLY.has('history')) show('history', await historyCurve(dir, config.history, config.historyRuns));
    if (ONLY.has('fanout') || ONLY.has('approvals')) {
      const server = await benchServer(join(dir, 'server'));
      try {
        if (ONLY.has('fanout')) show('fanout', await fanOutCurve(server, config.subscribers, config.fanOutAppends));
        if (ONLY.has('approvals')) show('approvals', await approvalsCurve(server, config.open, config.approveSamples));
      } finally {
        await server.app.stop();
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const measured: Measured = {
    date: new Date().toISOString().slice(0, 10), node: process.version, cores: cpus().length,
    loadBefore, loadAfter: load(), minutes: ((performance.now() - t0) / 60_000).toFixed(1), config, points,
  };
  mkdirSync(join(DOCS, 'performance'), { recursive: true });
  writeFileSync(saved(), `${JSON.stringify(measured, null, 2)}\n`);
  render(measured);
}

/** Writes docs/performance.md and the charts from what was measured. */
function render(m: Measured): void {
  const defs = definitions(m.config);
  const curves: Curve[] = (Object.keys(defs) as CurveId[]).flatMap((id) => (m.points[id] ? [{ ...defs[id], points: m.points[id] }] : []));
  const header = [
    '# Cost curves',
    `Written by \`npm run bench -- curves\` (bench/curves.ts) on ${m.date}: Node ${m.node}, ${m.cores} cores shared with other work, load average (1 / 5 / 15 min) ${m.loadBefore} before and ${m.loadAfter} after; ${m.minutes} min. Each curve is compared with its own first input measured in the same run: absolute figures move with the machine's load, ratios much less. Charts: p50 and p99 per input (SVG drawn by bench/support/svg-chart.ts); the measured points are in [performance/curves.json](performance/curves.json).`,
    'Scale it down with `CURVES_STEP_BUDGET`, `CURVES_HISTORY` (e.g. `10000,100000`), `CURVES_HISTORY_RUNS`, `CURVES_SUBSCRIBERS`, `CURVES_FANOUT_APPENDS`, `CURVES_OPEN_APPROVALS`, `CURVES_APPROVE_SAMPLES`; `CURVES_ONLY=steps,history,fanout,approvals` picks curves, `CURVES_DOCS=<dir>` writes elsewhere, `CURVES_RENDER_ONLY=1` re-renders this page from curves.json.',
    `| curve | target | result |\n| --- | --- | --- |\n${curves.map((c) => `| ${c.title} | ${c.target} | ${c.met(c.points) ? 'met' : '**missed**'} |`).join('\n')}`,
  ].join('\n\n');
  writeReport(DOCS, header, curves);
  console.log(`\nwrote ${join(DOCS, 'performance.md')} and ${curves.length} charts (${m.minutes} min)`);
}
