/**
 * `npm run bench -- history`: does the server's cost grow with history?
 *
 * One data folder is grown to 20,000, then 100,000, then 200,000 FINISHED runs (copies of runs the
 * real engine made once, appended through the store's group commits; bench/support/run-templates.ts),
 * with start times spread over 30 days, six kinds (succeeded, retried, failed, gated and approved;
 * three profiles; four requesters). At each size the BUILT server (node dist/src/server/main.js)
 * is started on the folder as a child process, waited on until its read models have caught up
 * (a query with `atLeast` the head), then a fixed query mix runs over HTTP GraphQL from a few clients.
 * Reported per size: RSS after the mix and peak RSS (/proc/<pid>/status VmRSS, VmHWM), V8 heap
 * used (/metrics), time until caught up, and query p50/p99 per kind and overall; the smallest size
 * is the baseline, the others are given as ratios to it.
 *
 * Env: HISTORY_BENCH_SIZES (20000,100000,200000), HISTORY_BENCH_QUERIES (3000),
 * HISTORY_BENCH_CLIENTS (4), HISTORY_BENCH_DIR (keep the folder there and grow it on the next run).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import Database from 'better-sqlite3';
import { percentile } from './support/measure.js';
import { fillFile, makeTemplates, type TemplateKind } from './support/run-templates.js';
import { printTable, type Row } from './support/table.js';

const SIZES = (process.env.HISTORY_BENCH_SIZES ?? '20000,100000,200000').split(',').map(Number);
const QUERIES = Number(process.env.HISTORY_BENCH_QUERIES ?? 3_000);
const CLIENTS = Number(process.env.HISTORY_BENCH_CLIENTS ?? 4);
const DAYS = 30;
const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

const p = (id: string, role: string) => ({ id, role });
const kinds: TemplateKind[] = [
  { tools: ['noop', 'noop', 'noop', 'noop', 'noop'], profile: 'technical', requester: p('alice', 'developer') },
  { tools: ['noop', 'flaky', 'noop', 'noop'], profile: 'smb', requester: p('dana', 'developer') },
  { tools: ['noop', 'noop', 'broken', 'noop'], profile: 'enterprise', requester: p('carol', 'devops_engineer') },
  { tools: ['noop', 'gated', 'noop'], profile: 'technical', requester: p('alice', 'developer'), approver: p('bob', 'tech_lead') },
  { tools: ['noop', 'noop', 'noop'], profile: 'enterprise', requester: p('rita', 'developer') },
  { tools: ['gated', 'noop'], profile: 'smb', requester: p('dana', 'developer'), approver: p('bob', 'tech_lead') },
];

const TOKENS = { alice: 'hist-alice-token-000000001', bob: 'hist-bob-token-00000000001', admin: 'hist-admin-token-000000001' };
const CONFIG = `auth:
  tokens:
    - { id: alice, role: developer, token: ${TOKENS.alice} }
    - { id: bob, role: tech_lead, token: ${TOKENS.bob} }
    - { id: root, role: admin, token: ${TOKENS.admin} }
`;

/** Wall time of the newest run at the largest size; run n is spread evenly before it. */
const END = Date.now();
const STEP_MS = (DAYS * 86_400_000) / Math.max(...SIZES);
const timeOf = (n: number) => new Date(END - (Math.max(...SIZES) - n) * STEP_MS);

function runsIn(path: string): number {
  if (!existsSync(path)) return 0;
  const db = new Database(path, { readonly: true });
  try {
    const row = db.prepare("SELECT count(*) AS n FROM events WHERE type = 'RunStarted'").get() as { n: number } | undefined;
    return row?.n ?? 0;
  } catch {
    return 0;
  } finally {
    db.close();
  }
}

interface Server { child: ChildProcess; url: string; readyMs: number; exited: Promise<void>; stderr: string[] }

async function startServer(dataDir: string, configPath: string): Promise<Server> {
  const t0 = performance.now();
  const child = spawn(process.execPath, [join(root, 'dist/src/server/main.js')], {
    cwd: root,
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'warn', GATEHOUSE_DATA_DIR: dataDir, GATEHOUSE_CONFIG: configPath, GATEHOUSE_EVENTSTORE: '', NODE_ENV: 'production', GATEHOUSE_CONSISTENCY_WAIT_MS: '60000' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const stderr: string[] = [];
  createInterface({ input: child.stderr as NodeJS.ReadableStream }).on('line', (l) => { if (stderr.length < 50) stderr.push(l); });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const url = await new Promise<string>((resolveUrl, reject) => {
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
      const m = /gatehouse ready on (\S+)/.exec(line);
      if (m) resolveUrl(m[1] as string);
    });
    void exited.then(() => reject(new Error(`the server exited before it was ready:\n${stderr.join('\n')}`)));
  });
  return { child, url, readyMs: performance.now() - t0, exited, stderr };
}

async function metrics(server: Server): Promise<string> {
  const res = await fetch(server.url.replace(/graphql$/, 'metrics'));
  return res.text();
}

/**
 * Waits until every read model has applied the head of the log: a query with `atLeast` (the
 * head's position is the consistency token on SQLite) waits inside the server, up to 60 s a
 * query (under fetch's 300 s headers timeout), and is asked again. Not /metrics: its
 * lag gauge reads up to 100,000 events per projection per scrape, and polling it slows catch-up.
 */
async function caughtUp(server: Server, storePath: string): Promise<void> {
  const db = new Database(storePath, { readonly: true });
  const head = String(db.prepare('SELECT max(position) AS p FROM events').pluck().get());
  db.close();
  for (;;) {
    try {
      await gql(server.url, TOKENS.admin, `query($t: String) { runs(first: 1, atLeast: $t) { totalCount } }`, { t: head });
      return;
    } catch (error) {
      if (!String(error).includes('READ_MODEL_LAGGING')) throw error;
    }
  }
}

function memoryOf(pid: number): { rss: number; hwm: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { rss: kb('VmRSS') / 1024, hwm: kb('VmHWM') / 1024 };
}

async function gql(url: string, token: string, query: string, variables: Record<string, unknown>): Promise<Record<string, unknown>> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify({ query, variables }) });
  const body = (await res.json()) as { data?: Record<string, unknown>; errors?: unknown[] };
  if (body.errors) throw new Error(`${query.slice(0, 60)}…: ${JSON.stringify(body.errors).slice(0, 300)}`);
  return body.data ?? {};
}

const RUNS = `query($first: Int, $after: String, $filter: RunsFilter) { runs(first: $first, after: $after, filter: $filter) { totalCount pageInfo { endCursor hasNextPage } edges { node { runId status profile startedAt } } } }`;
const RUN = `query($runId: ID!) { run(runId: $runId) { runId status profile startedAt endedAt steps { id status attempts } } }`;
const PENDING = `query { pendingApprovals(first: 20, scope: ALL) { totalCount edges { node { approvalId } } } }`;
const BUDGET = `query($scope: BudgetScopeInput!) { budget(scope: $scope) { profile runs liveRuns lines { kind key used limit } } }`;
const SIGNALS = `query($scope: String!) { goldenSignals(scope: $scope) { calls successRate errorRate latencyMs { p50 p99 } } }`;

/** The fixed mix: one query of each kind in turn, per client. */
type Kind = 'runs page 1' | 'runs next page' | 'runs filtered' | 'run (old)' | 'run (new)' | 'pendingApprovals' | 'budget' | 'goldenSignals';
const KINDS: Kind[] = ['runs page 1', 'runs next page', 'runs filtered', 'run (old)', 'run (new)', 'pendingApprovals', 'budget', 'goldenSignals'];

async function queryMix(url: string, size: number): Promise<Map<Kind, number[]>> {
  const samples = new Map<Kind, number[]>(KINDS.map((k) => [k, []]));
  let issued = 0;
  const filters = [
    { status: 'FAILED' }, { profile: 'smb' }, { requester: 'dana' },
    { startedAfter: timeOf(Math.floor(size * 0.9)).toISOString() },
    { startedAfter: timeOf(Math.floor(size * 0.4)).toISOString(), startedBefore: timeOf(Math.floor(size * 0.5)).toISOString(), profile: 'enterprise' },
  ];
  const client = async (c: number) => {
    let cursor: string | undefined;
    let pages = 0;
    let rand = 0x9e3779b9 ^ (c * 7919);
    const next = () => ((rand = (Math.imul(rand, 1_103_515_245) + 12_345) >>> 0) / 2 ** 32);
    for (let i = 0; issued < QUERIES; i++) {
      issued++;
      const kind = KINDS[(i + c) % KINDS.length] as Kind;
      let query: string;
      let variables: Record<string, unknown> = {};
      let token = TOKENS.alice;
      switch (kind) {
        case 'runs page 1': query = RUNS; variables = { first: 20 }; break;
        case 'runs next page':
          query = RUNS; variables = { first: 20, after: cursor }; break;
        case 'runs filtered': query = RUNS; variables = { first: 20, filter: filters[i % filters.length] }; break;
        case 'run (old)': query = RUN; variables = { runId: `b${Math.floor(next() * size * 0.1)}` }; break;
        case 'run (new)': query = RUN; variables = { runId: `b${size - 1 - Math.floor(next() * size * 0.01)}` }; break;
        case 'pendingApprovals': query = PENDING; token = TOKENS.admin; break;
        case 'budget': query = BUDGET; variables = { scope: i % 2 ? { profile: 'technical' } : { runId: `b${Math.floor(next() * size)}` } }; break;
        case 'goldenSignals': query = SIGNALS; variables = { scope: i % 2 ? 'overall' : 'profile:enterprise' }; break;
        default: { const never: never = kind; throw new Error(`unknown kind ${String(never)}`); }
      }
      const t = performance.now();
      const data = await gql(url, token, query, variables);
      samples.get(kind)?.push(performance.now() - t);
      if (kind === 'runs page 1' || kind === 'runs next page') {
        // Walk up to 10 pages deep, then start again from the top.
        const info = (data.runs as { pageInfo: { endCursor?: string; hasNextPage: boolean } }).pageInfo;
        cursor = info.hasNextPage && ++pages < 10 ? info.endCursor : undefined;
        if (!cursor) pages = 0;
      }
    }
  };
  await Promise.all(Array.from({ length: CLIENTS }, (_, c) => client(c)));
  return samples;
}

interface Measured {
  size: number;
  events: number;
  genS: number;
  readyS: number;
  caughtUpS: number;
  rss: number;
  hwm: number;
  heap: number;
  samples: Map<Kind, number[]>;
}

async function measure(dataDir: string, configPath: string, size: number, events: number, genS: number): Promise<Measured> {
  const storePath = join(dataDir, 'gatehouse.sqlite');
  const t0 = performance.now();
  const server = await startServer(dataDir, configPath);
  try {
    // A server that dies while catching up (out of memory, say) ends this size with its last words.
    await Promise.race([caughtUp(server, storePath), server.exited.then(() => { throw new Error(`the server exited while catching up (code ${server.child.exitCode}, signal ${server.child.signalCode}):\n${server.stderr.slice(-8).join('\n')}`); })]);
    const caughtUpS = (performance.now() - t0) / 1000;
    const samples = await queryMix(server.url, size);
    const heapLine = /^gatehouse_process_nodejs_heap_size_used_bytes (\d+(?:\.\d+)?)/m.exec(await metrics(server));
    const mem = memoryOf(server.child.pid as number);
    return { size, events, genS, readyS: server.readyMs / 1000, caughtUpS, rss: mem.rss, hwm: mem.hwm, heap: Number(heapLine?.[1] ?? NaN) / 2 ** 20, samples };
  } finally {
    server.child.kill('SIGTERM');
    await server.exited;
  }
}

function report(results: Measured[]): void {
  const base = results[0] as Measured;
  const label = (m: Measured) => `${(m.size / 1000).toLocaleString('en-US')}k`;
  const row = (what: string, value: (m: Measured) => number, target = '-', digits = 1): Row => {
    const out: Record<string, string | number> = { what };
    for (const m of results) out[label(m)] = Number(value(m).toFixed(digits));
    for (const m of results.slice(1)) out[`${label(m)}/${label(base)}`] = `${(value(m) / value(base)).toFixed(2)}x`;
    out.target = target;
    return out;
  };
  const all = (m: Measured) => [...m.samples.values()].flat();
  const rows: Row[] = [
    row('events in the log', (m) => m.events, '-', 0),
    row('server RSS after the mix, MB', (m) => m.rss, '≤ 1.25x'),
    row('server peak RSS (VmHWM), MB', (m) => m.hwm),
    row('V8 heap used after the mix, MB', (m) => m.heap),
    row('start until ready line, s', (m) => m.readyS, '-', 2),
    row('start until read models caught up, s', (m) => m.caughtUpS, '-', 2),
    ...KINDS.flatMap((k) => [row(`${k} p50 ms`, (m) => percentile(m.samples.get(k) ?? [], 50), '-', 2), row(`${k} p99 ms`, (m) => percentile(m.samples.get(k) ?? [], 99), '-', 2)]),
    row('all queries p50 ms', (m) => percentile(all(m), 50), '-', 2),
    row('all queries p99 ms', (m) => percentile(all(m), 99), '≤ 1.25x', 2),
  ];
  printTable(`history: the built server on ${results.map(label).join(' / ')} finished runs; ${QUERIES.toLocaleString('en-US')} queries from ${CLIENTS} clients per size (generation: ${results.map((m) => `${m.genS.toFixed(0)} s`).join(', ')})`, rows);
}

export async function run(): Promise<void> {
  const keep = process.env.HISTORY_BENCH_DIR;
  const dir = keep ?? mkdtempSync(join(tmpdir(), 'gatehouse-bench-history-'));
  mkdirSync(dir, { recursive: true });
  const dataDir = join(dir, 'data');
  mkdirSync(dataDir, { recursive: true });
  const configPath = join(dir, 'gatehouse.yaml');
  writeFileSync(configPath, CONFIG);
  const storePath = join(dataDir, 'gatehouse.sqlite');
  try {
    const templates = await makeTemplates(dir, kinds);
    const results: Measured[] = [];
    let events = 0;
    for (const size of SIZES) {
      const have = runsIn(storePath);
      const g0 = performance.now();
      // Grown, not regenerated: the server's read models and run index catch up from where they were.
      if (have < size) events += (await fillFile(storePath, { templates, from: have, to: size }, timeOf)).events;
      const genS = (performance.now() - g0) / 1000;
      const db = new Database(storePath, { readonly: true });
      events = (db.prepare('SELECT count(*) AS n FROM events').get() as { n: number }).n;
      db.close();
      console.log(`history: ${size.toLocaleString('en-US')} runs (${events.toLocaleString('en-US')} events) written in ${genS.toFixed(1)} s; starting the server (load average ${(await import('node:os')).loadavg().map((l) => l.toFixed(2)).join(' ')})`);
      let m: Measured;
      try {
        m = await measure(dataDir, configPath, size, events, genS);
      } catch (error) {
        console.log(`history: ${size.toLocaleString('en-US')} runs: NOT MEASURED: ${error instanceof Error ? error.message : String(error)}`);
        break;
      }
      console.log(`history: ${size.toLocaleString('en-US')} runs: caught up in ${m.caughtUpS.toFixed(1)} s, RSS ${m.rss.toFixed(0)} MB, peak ${m.hwm.toFixed(0)} MB`);
      results.push(m);
    }
    if (results.length > 0) report(results);
  } finally {
    if (!keep) rmSync(dir, { recursive: true, force: true });
  }
}
