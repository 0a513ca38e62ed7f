/**
 * `npm run bench -- cluster`: N Gatehouse server processes on one shared SQLite event store
 * (GATEHOUSE_EVENTSTORE=sqlite:///…, each with its own data folder). The same workload for N = 1
 * (the baseline, measured in this run), 2 and 3: gated runs started over GraphQL on random
 * instances and approved through another one; runs/s until every run has completed. Then the
 * takeover: an instance claims a call and is SIGKILLed; how long until another instance re-claims it.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { createSqliteEventStore } from '../src/adapters/eventstore/sqlite/sqlite-event-store.js';
import { printTable, type Row } from './support/table.js';

const RUNS = Number(process.env.BENCH_CLUSTER_RUNS ?? 300);
const CLIENTS = 8;
const DEV = 'bench-developer-token-01';
const LEADS = ['bench-techlead-token-001', 'bench-techlead-token-002'];
const SERVER = join(dirname(fileURLToPath(import.meta.url)), 'support', 'cluster-server.js');
const CONFIG = `auth:
  tokens:
    - { id: dev, role: developer, token: ${DEV} }
    - { id: lead1, role: tech_lead, token: ${LEADS[0]} }
    - { id: lead2, role: tech_lead, token: ${LEADS[1]} }
approvals:
  roles:
    developer: { maxPending: 100000 }
workers:
  - { name: w1, concurrency: 64 }
`;

interface Server { process: ChildProcess; url: string; exited: Promise<unknown> }

async function startServer(dir: string, storePath: string, i: number): Promise<Server> {
  const child = spawn(process.execPath, [SERVER], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'error', GATEHOUSE_DATA_DIR: join(dir, `instance-${i}`), GATEHOUSE_EVENTSTORE: `sqlite://${storePath}`, GATEHOUSE_CONFIG: join(dir, 'gatehouse.yaml'), GATEHOUSE_AUDIT_KEY: join(dir, 'audit-key.pem') },
  });
  const exited = new Promise((r) => child.once('exit', r));
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /gatehouse ready on (\S+)/.exec(out);
      if (m) resolve(m[1] as string);
    });
    void exited.then(() => reject(new Error(`server ${i} exited before it was ready`)));
  });
  return { process: child, url, exited };
}

async function gql(url: string, token: string, query: string, variables: Record<string, unknown>): Promise<Record<string, any>> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify({ query, variables }) });
  const body = (await res.json()) as { data?: Record<string, any>; errors?: unknown[] };
  if (body.errors) throw new Error(JSON.stringify(body.errors));
  return body.data as Record<string, any>;
}

/** A fresh folder with the shared config and the one audit key every instance signs with. */
async function cluster(n: number): Promise<{ dir: string; storePath: string; servers: Server[] }> {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-bench-cluster-'));
  writeFileSync(join(dir, 'gatehouse.yaml'), CONFIG);
  const { generateKeyPairSync } = await import('node:crypto');
  writeFileSync(join(dir, 'audit-key.pem'), generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  const storePath = join(dir, 'events.sqlite');
  const servers: Server[] = [];
  for (let i = 0; i < n; i++) servers.push(await startServer(dir, storePath, i));
  return { dir, storePath, servers };
}

async function stopAll(c: { dir: string; servers: Server[] }): Promise<void> {
  for (const s of c.servers) { s.process.kill('SIGTERM'); await s.exited; }
  rmSync(c.dir, { recursive: true, force: true });
}

const START = 'mutation($i: StartRunInput!) { startRun(input: $i) { runId steps { approvalId } } }';
const APPROVE = 'mutation($id: ID!) { approve(input: { approvalId: $id }) { approval { status } } }';

/** RUNS gated runs over N instances: start on one, approve on the next; runs/s until all completed. */
async function throughput(n: number): Promise<Row> {
  const c = await cluster(n);
  const store = createSqliteEventStore({ path: c.storePath });
  try {
    let completed = 0;
    const watch = store.subscribeToAll({ after: 'end', filter: { eventTypes: ['RunCompleted', 'RunFailed'] } });
    const done = (async () => { for await (const _e of watch) if (++completed >= RUNS) break; })();
    const t0 = performance.now();
    let next = 0;
    const client = async (lane: number) => {
      for (let i = next++; i < RUNS; i = next++) {
        const on = (i + lane) % n;
        const r = await gql(c.servers[on]!.url, DEV, START, { i: { goal: `bench ${i}`, profile: 'technical', steps: [{ id: 'pay', tool: 'bench.pay', input: { i }, domain: 'bench' }, { id: 'read', tool: 'bench.read', input: {}, domain: 'bench', dependsOn: ['pay'] }] } });
        const approvalId = (r.startRun.steps as Array<{ approvalId?: string }>).find((s) => s.approvalId)?.approvalId as string;
        await gql(c.servers[(on + 1) % n]!.url, LEADS[i % 2] as string, APPROVE, { id: approvalId });
      }
    };
    await Promise.all(Array.from({ length: CLIENTS }, (_, lane) => client(lane)));
    await done;
    const seconds = (performance.now() - t0) / 1000;
    await watch.close();
    return { instances: n, runs: RUNS, seconds, 'runs/s': RUNS / seconds };
  } finally {
    await store.close();
    await stopAll(c);
  }
}

/** Instance 0 claims a call of a tool that never answers (timeout 1 s) and is SIGKILLed; instance 1 re-claims it. */
async function takeover(): Promise<Row> {
  const c = await cluster(2);
  const store = createSqliteEventStore({ path: c.storePath });
  try {
    const claims: Array<{ at: number; recovered: boolean; startedAt: string }> = [];
    const watch = store.subscribeToAll({ after: 'end', filter: { eventTypes: ['ToolCallStarted'] } });
    let wake: () => void = () => {};
    void (async () => { for await (const e of watch) { const d = e.data as { recovered?: boolean; startedAt: string }; claims.push({ at: Date.now(), recovered: d.recovered ?? false, startedAt: d.startedAt }); wake(); } })();
    const until = async (k: number) => { while (claims.length < k) await new Promise<void>((r) => { wake = r; }); };
    await gql(c.servers[0]!.url, DEV, START, { i: { goal: 'takeover', profile: 'technical', steps: [{ id: 'hang', tool: 'bench.hang', input: {}, domain: 'bench' }] } });
    await until(1);
    const killedAt = Date.now();
    c.servers[0]!.process.kill('SIGKILL');
    await c.servers[0]!.exited;
    await until(2);
    const [first, second] = claims as [typeof claims[0], typeof claims[0]];
    await watch.close();
    c.servers.shift();
    return { measure: 'takeover after SIGKILL', 'kill → re-claim ms': second.at - killedAt, 'first claim → re-claim ms': Date.parse(second.startedAt) - Date.parse(first.startedAt), rule: 'call timeout 1,000 ms + grace 2,000 ms', recovered: String(second.recovered) };
  } finally {
    await store.close();
    await stopAll(c);
  }
}

export async function run(): Promise<void> {
  const rows: Row[] = [];
  for (const n of [1, 2, 3]) rows.push(await throughput(n));
  const base = rows[0]?.['runs/s'] as number;
  printTable(`cluster: ${RUNS} gated runs (2 steps, one approval), ${CLIENTS} HTTP clients, N servers on one SQLite file; N = 1 is the baseline`, rows.map((r) => ({ ...r, 'vs 1 instance': `${((r['runs/s'] as number) / base).toFixed(2)}×` })));
  printTable('cluster: takeover of a killed instance\'s claimed call', [await takeover()]);
}
