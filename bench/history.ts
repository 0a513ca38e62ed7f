/**
 * `npm run bench -- history`: does the server's cost grow with history?
 *
 * One data folder per size, of 20,000, 100,000 and 200,000 FINISHED runs (copies of runs the real
 * engine made once, appended through the store's group commits; bench/support/run-templates.ts;
 * each size's folder is a copy of the one before, grown), with start times spread over 30 days, six
 * kinds (succeeded, retried, failed, gated and approved; three profiles; four requesters). The
 * BUILT server (node dist/src/server/main.js) is started on every folder as a child process, each
 * waited on until its read models have caught up (a query with `atLeast` the head). Then the fixed
 * query mix runs over HTTP GraphQL from a few clients, INTERLEAVED: in each of several rounds every
 * size gets its share of the queries, in an order that rotates from round to round, so the load
 * that others put on the machine hits every size alike (sizes measured one after the other mostly
 * measured how busy the machine was at the time).
 * Reported per size: RSS after the mix and peak RSS (/proc/<pid>/status VmRSS, VmHWM), V8 heap
 * used (/metrics), both again after full collections forced through the server's inspector (each
 * server runs with `--inspect=127.0.0.1:0`: held memory stays, garbage goes), time until caught
 * up, and query p50/p99 per kind and overall; the smallest size is the baseline, the others are
 * given as ratios to it.
 *
 * Env: HISTORY_BENCH_SIZES (20000,100000,200000), HISTORY_BENCH_QUERIES (3000 per size),
 * HISTORY_BENCH_CLIENTS (4), HISTORY_BENCH_ROUNDS (10), HISTORY_BENCH_DIR (keep the folders there
 * and reuse them, read models caught up, on the next run), HISTORY_BENCH_FIRST_START=1 (with a kept
 * folder: drop its read models, run index and notification checkpoint first, so each server
 * starts as on a fresh folder and builds them from the whole log), HISTORY_BENCH_CPU_PROF (a folder: each
 * server writes a `node --cpu-prof` profile there when stopped; summarize it with
 * `node dist/bench/support/cpu-profile-summary.js <file>`).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import Database from 'better-sqlite3';
import { forceGc, INSPECTOR_LINE } from './support/force-gc.js';
import { percentile } from './support/measure.js';
import { fillFile, makeTemplates, type TemplateKind } from './support/run-templates.js';
import { printTable, type Row } from './support/table.js';

const SIZES = (process.env.HISTORY_BENCH_SIZES ?? '20000,100000,200000').split(',').map(Number);
const QUERIES = Number(process.env.HISTORY_BENCH_QUERIES ?? 3_000);
const CLIENTS = Number(process.env.HISTORY_BENCH_CLIENTS ?? 4);
const ROUNDS = Math.max(1, Number(process.env.HISTORY_BENCH_ROUNDS ?? 10));
const CPU_PROF = process.env.HISTORY_BENCH_CPU_PROF;
const FIRST_START = process.env.HISTORY_BENCH_FIRST_START === '1';
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

interface Server { child: ChildProcess; url: string; inspector: Promise<string>; readyMs: number; exited: Promise<void>; stderr: string[] }

async function startServer(dataDir: string, configPath: string, profileDir?: string): Promise<Server> {
  const t0 = performance.now();
  const profile = profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [];
  const child = spawn(process.execPath, [...profile, '--inspect=127.0.0.1:0', join(root, 'dist/src/server/main.js')], {
    cwd: root,
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'warn', GATEHOUSE_DATA_DIR: dataDir, GATEHOUSE_CONFIG: configPath, GATEHOUSE_EVENTSTORE: '', NODE_ENV: 'production', GATEHOUSE_CONSISTENCY_WAIT_MS: '60000' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const stderr: string[] = [];
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const inspector = new Promise<string>((resolveUrl, reject) => {
    createInterface({ input: child.stderr as NodeJS.ReadableStream }).on('line', (l) => {
      const m = INSPECTOR_LINE.exec(l);
      if (m) resolveUrl(m[1] as string);
      else if (stderr.length < 50) stderr.push(l);
    });
    void exited.then(() => reject(new Error('the server exited without an inspector')));
  });
  inspector.catch(() => undefined);
  const url = await new Promise<string>((resolveUrl, reject) => {
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
      const m = /gatehouse ready on (\S+)/.exec(line);
      if (m) resolveUrl(m[1] as string);
    });
    void exited.then(() => reject(new Error(`the server exited before it was ready:\n${stderr.join('\n')}`)));
  });
  return { child, url, inspector, readyMs: performance.now() - t0, exited, stderr };
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

/** `queries` queries of the mix against one server, their times added to `samples`. */
async function queryMix(url: string, size: number, queries: number, samples: Map<Kind, number[]>): Promise<void> {
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
    for (let i = 0; issued < queries; i++) {
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
  rssAfterGc: number;
  heapAfterGc: number;
  samples: Map<Kind, number[]>;
}

/** One size's folder, its server started and caught up. */
interface Side {
  size: number;
  events: number;
  genS: number;
  server: Server;
  caughtUpS: number;
  samples: Map<Kind, number[]>;
}

/** Starts the server on a folder and waits until its read models have applied the head of the log. */
async function startCaughtUp(dataDir: string, configPath: string, size: number): Promise<{ server: Server; caughtUpS: number }> {
  const storePath = join(dataDir, 'gatehouse.sqlite');
  const t0 = performance.now();
  const profileDir = CPU_PROF ? join(resolve(CPU_PROF), String(size)) : undefined;
  if (profileDir) mkdirSync(profileDir, { recursive: true });
  const server = await startServer(dataDir, configPath, profileDir);
  try {
    // A server that dies while catching up (out of memory, say) ends the bench with its last words.
    await Promise.race([caughtUp(server, storePath), server.exited.then(() => { throw new Error(`the server exited while catching up (code ${server.child.exitCode}, signal ${server.child.signalCode}):\n${server.stderr.slice(-8).join('\n')}`); })]);
  } catch (error) {
    server.child.kill('SIGTERM');
    await server.exited;
    throw error;
  }
  return { server, caughtUpS: (performance.now() - t0) / 1000 };
}

/** What the server of one side shows after the mix. */
async function measured(side: Side): Promise<Measured> {
  const heapOf = async () => Number(/^gatehouse_process_nodejs_heap_size_used_bytes (\d+(?:\.\d+)?)/m.exec(await metrics(side.server))?.[1] ?? NaN) / 2 ** 20;
  const heap = await heapOf();
  const mem = memoryOf(side.server.child.pid as number);
  // Then what stays once the garbage is gone: what the server holds, not what it has not yet freed.
  await forceGc(await side.server.inspector);
  const afterGc = memoryOf(side.server.child.pid as number);
  const heapAfterGc = await heapOf();
  return { size: side.size, events: side.events, genS: side.genS, readyS: side.server.readyMs / 1000, caughtUpS: side.caughtUpS, rss: mem.rss, hwm: mem.hwm, heap, rssAfterGc: afterGc.rss, heapAfterGc, samples: side.samples };
}

/** A kept folder made to start as a fresh one: everything but the log goes (HISTORY_BENCH_FIRST_START). */
function dropAllButTheLog(dataDir: string): void {
  const db = new Database(join(dataDir, 'gatehouse.sqlite'));
  try {
    const tables = db.prepare<[], string>("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT IN ('events', 'sqlite_sequence') AND name NOT LIKE 'sqlite_%'").pluck().all();
    db.transaction(() => {
      for (const t of tables) db.exec(`DROP TABLE "${t}"`);
    })();
  } finally {
    db.close();
  }
  rmSync(join(dataDir, 'notifications.checkpoint'), { force: true });
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
    row('server RSS after a forced full GC, MB', (m) => m.rssAfterGc, '≤ 1.25x'),
    row('V8 heap used after a forced full GC, MB', (m) => m.heapAfterGc),
    row('start until ready line, s', (m) => m.readyS, '-', 2),
    row('start until read models caught up, s', (m) => m.caughtUpS, '-', 2),
    ...KINDS.flatMap((k) => [row(`${k} p50 ms`, (m) => percentile(m.samples.get(k) ?? [], 50), '-', 2), row(`${k} p99 ms`, (m) => percentile(m.samples.get(k) ?? [], 99), '-', 2)]),
    row('all queries p50 ms', (m) => percentile(all(m), 50), '-', 2),
    row('all queries p99 ms', (m) => percentile(all(m), 99), '≤ 1.25x', 2),
  ];
  printTable(`history: the built server${FIRST_START ? ', first start (read models built from the whole log),' : ''} on ${results.map(label).join(' / ')} finished runs; ${QUERIES.toLocaleString('en-US')} queries from ${CLIENTS} clients per size, interleaved in ${ROUNDS} rounds (generation: ${results.map((m) => `${m.genS.toFixed(0)} s`).join(', ')})`, rows);
}

const load = async () => (await import('node:os')).loadavg().map((l) => l.toFixed(2)).join(' ');

export async function run(): Promise<void> {
  const keep = process.env.HISTORY_BENCH_DIR;
  const dir = keep ?? mkdtempSync(join(tmpdir(), 'gatehouse-bench-history-'));
  mkdirSync(dir, { recursive: true });
  const configPath = join(dir, 'gatehouse.yaml');
  writeFileSync(configPath, CONFIG);
  const sides: Side[] = [];
  try {
    // Made again each run: a kept folder's template runs exist already, and starting them again fails.
    for (const f of ['templates.sqlite', 'templates.sqlite-wal', 'templates.sqlite-shm']) rmSync(join(dir, f), { force: true });
    const templates = await makeTemplates(dir, kinds);
    const sizes = [...SIZES].sort((a, b) => a - b);
    let previous: string | undefined;
    const folders: Array<{ size: number; dataDir: string; events: number; genS: number }> = [];
    for (const size of sizes) {
      const dataDir = join(dir, `runs-${size}`, 'data');
      mkdirSync(dataDir, { recursive: true });
      const storePath = join(dataDir, 'gatehouse.sqlite');
      const g0 = performance.now();
      // Each size starts as a copy of the size before (closed, so its WAL is in the file), grown.
      if (runsIn(storePath) === 0 && previous !== undefined) copyFileSync(previous, storePath);
      const have = runsIn(storePath);
      if (have < size) await fillFile(storePath, { templates, from: have, to: size }, timeOf);
      const genS = (performance.now() - g0) / 1000;
      const db = new Database(storePath, { readonly: true });
      const events = (db.prepare('SELECT count(*) AS n FROM events').get() as { n: number }).n;
      db.close();
      console.log(`history: ${size.toLocaleString('en-US')} runs (${events.toLocaleString('en-US')} events) ready in ${genS.toFixed(1)} s`);
      folders.push({ size, dataDir, events, genS });
      previous = storePath;
    }
    // One server per size, started one after the other (catching up is the heavy part), all kept up.
    for (const f of folders) {
      if (FIRST_START) dropAllButTheLog(f.dataDir);
      console.log(`history: starting the server on ${f.size.toLocaleString('en-US')} runs (load average ${await load()})`);
      const { server, caughtUpS } = await startCaughtUp(f.dataDir, configPath, f.size);
      sides.push({ ...f, server, caughtUpS, samples: new Map<Kind, number[]>(KINDS.map((k) => [k, []])) });
      console.log(`history: ${f.size.toLocaleString('en-US')} runs: caught up in ${caughtUpS.toFixed(1)} s`);
    }
    const perRound = Math.max(1, Math.round(QUERIES / ROUNDS));
    for (let r = 0; r < ROUNDS; r++) {
      for (let k = 0; k < sides.length; k++) {
        const side = sides[(r + k) % sides.length] as Side;
        await queryMix(side.server.url, side.size, perRound, side.samples);
      }
    }
    console.log(`history: ${ROUNDS} rounds of ${perRound} queries per size done (load average ${await load()})`);
    const results: Measured[] = [];
    for (const side of sides) results.push(await measured(side));
    report(results);
  } finally {
    for (const side of sides) side.server.child.kill('SIGTERM');
    await Promise.all(sides.map((side) => side.server.exited));
    if (!keep) rmSync(dir, { recursive: true, force: true });
  }
}
