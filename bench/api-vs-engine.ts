/**
 * `npm run bench -- api`, second part: the API against the in-process engine, each in its own
 * server process composed as `npm start` composes it (same engine config, same SQLite store kind),
 * alternating passes so machine noise hits both alike. The HTTP clients run in this process.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { approveLoop, benchClient, loadPass, progressMessages } from './support/api-load.js';
import { CONFIG, DEV, LEAD, REQUESTERS } from './support/api-shared.js';
import { median, percentile } from './support/measure.js';
import { printTable } from './support/table.js';

const RUNS = Number(process.env.BENCH_API_RUNS ?? 500);
const PASSES = Number(process.env.BENCH_API_PASSES ?? 3);
const APPROVALS = 300;
const SERVER = join(dirname(fileURLToPath(import.meta.url)), 'support', 'api-server.js');
/**
 * The Node flags `npm start` gives the server (package.json), so both bench processes run as it
 * does; BENCH_API_NODE_ARGS replaces them (an empty value: none) to measure other flags.
 */
const START_NODE_ARGS = (() => {
  const pkg = JSON.parse(readFileSync(join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'package.json'), 'utf8')) as { scripts: Record<string, string> };
  const node = /(?:^|&&\s*)node\s+((?:--\S+\s+)*)/.exec(pkg.scripts.start ?? '');
  return (node?.[1] ?? '').split(/\s+/).filter(Boolean);
})();

/** The server's event-loop delay over a span (ms): how long a callback waited behind other work; and its GC pauses. */
interface LoopDelay { p50: number; p99: number; max: number; gcPauses: number; gcMs: number; gcMaxMs: number }

interface Pass {
  inproc: { tenInFlight: { runsPerSecond: number; startMs: number[]; cpuMsPerRun: number; loop: LoopDelay }; serial: { runsPerSecond: number; startMs: number[] } };
  http: { tenInFlight: { runsPerSecond: number; startMs: number[]; doneInAnswer: number; cpuMsPerRun: number; messagesPerRun: number; loop: LoopDelay }; serial: { runsPerSecond: number; startMs: number[] }; approveAlone: number[]; approveAloneLoop: LoopDelay; approveUnderLoad: number[] };
}

/** The server process's CPU time (ms) and its event-loop delay since the previous report. */
interface CpuReport { ms: number; loop: LoopDelay }
interface Spawned { child: ChildProcess; output: Promise<string>; exited: Promise<number | null>; cpuMs(): Promise<CpuReport> }

function spawnServer(dir: string, mode: 'inproc' | 'server', name: string): Spawned {
  const profDir = process.env.BENCH_API_CPU_PROF;
  const nodeArgs = (process.env.BENCH_API_NODE_ARGS ?? START_NODE_ARGS.join(' ')).split(/\s+/).filter(Boolean);
  const args = [...nodeArgs, ...(mode === 'server' && profDir ? ['--cpu-prof', `--cpu-prof-dir=${profDir}`] : []), SERVER];
  const child = spawn(process.execPath, args, {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, BENCH_API_MODE: mode, BENCH_API_RUNS: String(RUNS), PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'error', GATEHOUSE_DATA_DIR: join(dir, name), GATEHOUSE_CONFIG: join(dir, 'gatehouse.yaml'), GATEHOUSE_SHUTDOWN_GRACE_MS: '1000' },
  });
  const exited = new Promise<number | null>((r) => child.once('exit', r));
  let out = '';
  let cpuWaiter: ((report: CpuReport) => void) | undefined;
  let tail = '';
  child.stdout?.on('data', (c: Buffer) => {
    out += c.toString();
    tail += c.toString();
    for (let nl = tail.indexOf('\n'); nl >= 0; nl = tail.indexOf('\n')) {
      const line = tail.slice(0, nl);
      tail = tail.slice(nl + 1);
      if (line.startsWith('cpu ')) {
        const { user, system, loop } = JSON.parse(line.slice(4)) as { user: number; system: number; loop: LoopDelay };
        cpuWaiter?.({ ms: (user + system) / 1000, loop });
      }
    }
  });
  const cpuMs = () => new Promise<CpuReport>((resolve) => {
    cpuWaiter = resolve;
    child.kill('SIGUSR2');
  });
  const output = new Promise<string>((resolve, reject) => {
    child.stdout?.on('data', () => {
      if (out.includes('\n')) resolve(out);
    });
    void exited.then((code) => (out.includes('\n') ? resolve(out) : reject(new Error(`bench server (${mode}) exited ${code} before answering`))));
  });
  return { child, output, exited, cpuMs };
}

async function inProcessPass(dir: string, i: number): Promise<Pass['inproc']> {
  const { output, exited } = spawnServer(dir, 'inproc', `inproc-${i}`);
  const line = await output;
  await exited;
  return JSON.parse(line) as Pass['inproc'];
}

async function httpPass(dir: string, i: number): Promise<Pass['http']> {
  const { child, output, exited, cpuMs } = spawnServer(dir, 'server', `http-${i}`);
  const url = /gatehouse ready on (\S+)/.exec(await output)?.[1];
  if (!url) throw new Error('the bench server did not say where it listens');
  const clients = REQUESTERS.map((r) => benchClient(url, r.token));
  const dev = benchClient(url, DEV.token);
  const lead = benchClient(url, LEAD.token);
  try {
    await loadPass(clients, 200); // warm-up: JIT, statement caches, connections
    const cpu0 = await cpuMs();
    const messages0 = progressMessages.count;
    const load = await loadPass(clients, RUNS);
    const cpu1 = await cpuMs();
    const tenInFlight = { ...load, cpuMsPerRun: (cpu1.ms - cpu0.ms) / RUNS, messagesPerRun: (progressMessages.count - messages0) / RUNS, loop: cpu1.loop };
    const serial = await loadPass(clients.slice(0, 1), Math.max(50, Math.round(RUNS / 5)));
    await cpuMs(); // starts the approve span of the event-loop delay
    const approveAlone = (await approveLoop(dev, lead, APPROVALS + 20)).slice(20);
    const approveAloneLoop = (await cpuMs()).loop;
    let loaded = true;
    const [, approveUnderLoad] = await Promise.all([
      loadPass(clients, Math.round(RUNS / 2)).finally(() => void (loaded = false)),
      approveLoop(dev, lead, Number.MAX_SAFE_INTEGER, () => !loaded),
    ]);
    return { tenInFlight, serial, approveAlone, approveAloneLoop, approveUnderLoad };
  } finally {
    for (const c of [...clients, dev, lead]) await c.ws.dispose();
    child.kill('SIGTERM');
    await exited;
  }
}

const ms = (v: number) => Math.round(v * 100) / 100;
/** Medians over passes of the event-loop delay's p50, p99 and max. */
/** Medians over passes of the GC pause count, their total and the longest. */
const gcText = (spans: LoopDelay[]) => [median(spans.map((l) => l.gcPauses)), median(spans.map((l) => l.gcMs)), median(spans.map((l) => l.gcMaxMs))].map(ms).join(' / ');
const loopText = (spans: LoopDelay[]) => [median(spans.map((l) => l.p50)), median(spans.map((l) => l.p99)), median(spans.map((l) => l.max))].map(ms).join(' / ');
const met = (ok: boolean) => (ok ? 'met' : '**missed**');

/** Runs the alternating passes and prints the table, the baseline beside each figure. */
export async function runApiVsEngine(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-bench-api-'));
  writeFileSync(join(dir, 'gatehouse.yaml'), CONFIG);
  const loadBefore = loadavg()[0] as number;
  const passes: Pass[] = [];
  try {
    for (let i = 0; i < PASSES; i++) passes.push({ inproc: await inProcessPass(dir, i), http: await httpPass(dir, i) });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const loadAfter = loadavg()[0] as number;
  const med = (f: (p: Pass) => number) => median(passes.map(f));
  const all = (f: (p: Pass) => number) => passes.map((p) => Math.round(f(p))).join(' / ');
  const share10 = med((p) => p.http.tenInFlight.runsPerSecond / p.inproc.tenInFlight.runsPerSecond);
  const share1 = med((p) => p.http.serial.runsPerSecond / p.inproc.serial.runsPerSecond);
  const p = (f: (x: Pass) => number[], q: number) => med((x) => percentile(f(x), q));
  const startP99 = p((x) => x.http.tenInFlight.startMs, 99);
  const approveP99 = p((x) => x.http.approveAlone, 99);
  const approveLoadedP99 = p((x) => x.http.approveUnderLoad, 99);
  const rows = [
    { measure: '5-step runs/s, 10 clients / 10 in flight (until SUCCEEDED)', 'in-process engine (baseline)': ms(med((x) => x.inproc.tenInFlight.runsPerSecond)), 'HTTP GraphQL': ms(med((x) => x.http.tenInFlight.runsPerSecond)), 'HTTP ÷ baseline': `${Math.round(share10 * 100)} %`, passes: `${all((x) => x.inproc.tenInFlight.runsPerSecond)} vs ${all((x) => x.http.tenInFlight.runsPerSecond)}`, target: '≥ 50 %', result: met(share10 >= 0.5) },
    { measure: 'server CPU ms per run (user + system), 10 in flight', 'in-process engine (baseline)': ms(med((x) => x.inproc.tenInFlight.cpuMsPerRun)), 'HTTP GraphQL': ms(med((x) => x.http.tenInFlight.cpuMsPerRun)), 'HTTP ÷ baseline': `${Math.round(med((x) => x.http.tenInFlight.cpuMsPerRun / x.inproc.tenInFlight.cpuMsPerRun) * 100)} %`, passes: `${passes.map((x) => ms(x.inproc.tenInFlight.cpuMsPerRun)).join(' / ')} vs ${passes.map((x) => ms(x.http.tenInFlight.cpuMsPerRun)).join(' / ')}`, target: '', result: '' },
    { measure: 'server event-loop delay p50 / p99 / max ms, 10 in flight', 'in-process engine (baseline)': loopText(passes.map((x) => x.inproc.tenInFlight.loop)), 'HTTP GraphQL': loopText(passes.map((x) => x.http.tenInFlight.loop)), 'HTTP ÷ baseline': '', passes: `p99 ${passes.map((x) => x.inproc.tenInFlight.loop.p99).join(' / ')} vs ${passes.map((x) => x.http.tenInFlight.loop.p99).join(' / ')}`, target: '(reported)', result: '' },
    { measure: 'server GC pauses: count / total ms / longest ms, 10 in flight', 'in-process engine (baseline)': gcText(passes.map((x) => x.inproc.tenInFlight.loop)), 'HTTP GraphQL': gcText(passes.map((x) => x.http.tenInFlight.loop)), 'HTTP ÷ baseline': '', passes: '', target: '(reported)', result: '' },
    { measure: '5-step runs/s, one requester, one at a time', 'in-process engine (baseline)': ms(med((x) => x.inproc.serial.runsPerSecond)), 'HTTP GraphQL': ms(med((x) => x.http.serial.runsPerSecond)), 'HTTP ÷ baseline': `${Math.round(share1 * 100)} %`, passes: `${all((x) => x.inproc.serial.runsPerSecond)} vs ${all((x) => x.http.serial.runsPerSecond)}`, target: '(reported)', result: '' },
    { measure: 'startRun p50 ms, 10 clients', 'in-process engine (baseline)': ms(p((x) => x.inproc.tenInFlight.startMs, 50)), 'HTTP GraphQL': ms(p((x) => x.http.tenInFlight.startMs, 50)), 'HTTP ÷ baseline': '', passes: '', target: '', result: '' },
    { measure: 'startRun p99 ms, 10 clients', 'in-process engine (baseline)': ms(p((x) => x.inproc.tenInFlight.startMs, 99)), 'HTTP GraphQL': ms(startP99), 'HTTP ÷ baseline': '', passes: all((x) => percentile(x.http.tenInFlight.startMs, 99)), target: '≤ 20 ms', result: met(startP99 <= 20) },
    { measure: 'startRun p50 / p99 ms, one requester serialized', 'in-process engine (baseline)': `${ms(p((x) => x.inproc.serial.startMs, 50))} / ${ms(p((x) => x.inproc.serial.startMs, 99))}`, 'HTTP GraphQL': `${ms(p((x) => x.http.serial.startMs, 50))} / ${ms(p((x) => x.http.serial.startMs, 99))}`, 'HTTP ÷ baseline': '', passes: '', target: '(reported)', result: '' },
    { measure: `approve round trip p50 / p99 ms, alone (${APPROVALS} approvals)`, 'in-process engine (baseline)': '', 'HTTP GraphQL': `${ms(p((x) => x.http.approveAlone, 50))} / ${ms(approveP99)}`, 'HTTP ÷ baseline': '', passes: all((x) => percentile(x.http.approveAlone, 99)), target: '≤ 5 ms', result: met(approveP99 <= 5) },
    { measure: 'server event-loop delay p50 / p99 / max ms, during approve alone', 'in-process engine (baseline)': '', 'HTTP GraphQL': loopText(passes.map((x) => x.http.approveAloneLoop)), 'HTTP ÷ baseline': '', passes: `p99 ${passes.map((x) => x.http.approveAloneLoop.p99).join(' / ')}`, target: '(reported)', result: '' },
    { measure: 'server GC pauses: count / total ms / longest ms, during approve alone', 'in-process engine (baseline)': '', 'HTTP GraphQL': gcText(passes.map((x) => x.http.approveAloneLoop)), 'HTTP ÷ baseline': '', passes: '', target: '(reported)', result: '' },
    { measure: 'approve round trip p50 / p99 ms, under the 10-client load', 'in-process engine (baseline)': '', 'HTTP GraphQL': `${ms(p((x) => x.http.approveUnderLoad, 50))} / ${ms(approveLoadedP99)}`, 'HTTP ÷ baseline': '', passes: `n = ${passes.map((x) => x.http.approveUnderLoad.length).join(' / ')}`, target: '(≤ 5 ms)', result: met(approveLoadedP99 <= 5) },
  ];
  const flags = (process.env.BENCH_API_NODE_ARGS ?? START_NODE_ARGS.join(' ')).trim() || 'none';
  printTable(`API vs in-process engine: ${RUNS.toLocaleString('en-US')} 5-step runs per pass, median of ${PASSES} alternating passes, SQLite, Node flags ${flags} (load average ${loadBefore.toFixed(1)} → ${loadAfter.toFixed(1)})`, rows);
  const inAnswer = passes.map((x) => x.http.tenInFlight.doneInAnswer).join(' / ');
  console.log(`\nEach process is composed as npm start composes it; the baseline calls Orchestrator.startRun and learns the end from the engine's change listener.`);
  console.log(`HTTP clients learn SUCCEEDED from the startRun answer when the read model already says so (${inAnswer} of ${RUNS} per pass), else from a graphql-ws runProgress subscription`);
  console.log(`(${passes.map((x) => x.http.tenInFlight.messagesPerRun.toFixed(1)).join(' / ')} runProgress messages per run). Server CPU per run: the server process's user + system time around the pass.`);
  console.log('Event-loop delay: perf_hooks.monitorEventLoopDelay in the server process over the same span (how long a ready callback waited behind other work); GC pauses: its PerformanceObserver gc entries.');
}
