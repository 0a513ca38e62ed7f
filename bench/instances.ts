/**
 * Two built server processes on one SQLite event store (each its own data folder): how long after
 * an approve through instance A is acknowledged its ApprovalGranted reaches a graphql-ws
 * subscriber on instance B, against the same delivery on A itself (the baseline, same run).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { percentile } from './support/measure.js';
import { printTable } from './support/table.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const DEV = 'alice-token-0000000001';
const LEAD = 'bob-token-000000000001';
const RUNS = 320;
const WARMUP = 20;

function spawnServer(dir: string, id: string): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [join(root, 'dist/src/server/main.js')], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: {
      ...process.env, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'warn', GATEHOUSE_INSTANCE_ID: id,
      GATEHOUSE_DATA_DIR: join(dir, id), GATEHOUSE_EVENTSTORE: `sqlite://${join(dir, 'events.sqlite')}`,
      GATEHOUSE_CONFIG: join(root, 'test/fixtures/gatehouse.yaml'),
    },
  });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /gatehouse ready on (\S+)/.exec(out);
      if (m) resolve({ child, url: (m[1] as string).replace('localhost', '127.0.0.1') });
    });
    child.once('exit', (code) => reject(new Error(`server ${id} exited (${code})`)));
  });
}

async function gql(url: string, token: string, query: string, variables: Record<string, unknown>): Promise<Record<string, any>> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify({ query, variables }) });
  const body = (await res.json()) as { data?: Record<string, any>; errors?: unknown[] };
  if (body.errors) throw new Error(JSON.stringify(body.errors));
  return body.data as Record<string, any>;
}

export async function run(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-bench-instances-'));
  const servers = await Promise.all([spawnServer(dir, 'a'), spawnServer(dir, 'b')]);
  const [a, b] = servers as [{ child: ChildProcess; url: string }, { child: ChildProcess; url: string }];
  const ws = (url: string) => createClient({ url: url.replace('http', 'ws'), webSocketImpl: WebSocket, retryAttempts: 0, connectionParams: { authorization: `Bearer ${DEV}` } });
  const onA = ws(a.url);
  const onB = ws(b.url);
  const latency = { a: [] as number[], b: [] as number[] };
  const fromSend = { a: [] as number[], b: [] as number[] };
  try {
    for (let i = 0; i < RUNS; i++) {
      const r = await gql(a.url, DEV, `mutation($input: StartRunInput!) { startRun(input: $input) { runId steps { approvalId } } }`, {
        input: { goal: 'bench', profile: 'enterprise', steps: [{ id: 's', tool: 'deploy.release', domain: 'deploys', input: { environment: 'staging', version: '1' } }] },
      });
      const runId = r.startRun.runId as string;
      const approvalId = r.startRun.steps[0].approvalId as string;
      // From the event before the newest: the newest arrives first and proves the feed is live
      // before the approve is sent, so no subscription set-up is timed.
      const head = (await gql(a.url, DEV, `query($id: ID!) { runEvents(runId: $id, first: 100) { edges { node { revision } } } }`, { id: runId })).runEvents.edges.length - 1;
      const after = Buffer.from(`ev:${runId}:${head - 1}`).toString('base64url');
      const delivered = { a: 0, b: 0 };
      const live = { a: false, b: false };
      const stops = (['a', 'b'] as const).map((k) =>
        (k === 'a' ? onA : onB).subscribe<{ runEvents: { type: string } }>({ query: `subscription($id: ID!, $after: String) { runEvents(runId: $id, after: $after) { type } }`, variables: { id: runId, after } }, {
          next: (m) => {
            live[k] = true;
            if (m.data?.runEvents.type === 'ApprovalGranted' && delivered[k] === 0) delivered[k] = performance.now();
          },
          error: (e) => console.error(e),
          complete: () => {},
        }),
      );
      while (!live.a || !live.b) await new Promise((res) => setImmediate(res));
      const sent = performance.now();
      await gql(a.url, LEAD, `mutation($id: ID!) { approve(input: { approvalId: $id }) { approval { status } } }`, { id: approvalId });
      const acknowledged = performance.now();
      while (delivered.a === 0 || delivered.b === 0) await new Promise((res) => setImmediate(res));
      for (const stop of stops) stop();
      // Delivered before the ack (A's answer waits for its own read models) counts as 0.
      if (i >= WARMUP) {
        for (const k of ['a', 'b'] as const) {
          latency[k].push(Math.max(0, delivered[k] - acknowledged));
          fromSend[k].push(delivered[k] - sent);
        }
      }
    }
  } finally {
    await onA.dispose();
    await onB.dispose();
    for (const s of servers) s.child.kill('SIGTERM');
    await Promise.all(servers.map((s) => new Promise((res) => (s.child.exitCode !== null ? res(undefined) : s.child.once('exit', res)))));
    rmSync(dir, { recursive: true, force: true });
  }
  const row = (measure: string, v: number[], target: string) => ({ measure, n: v.length, p50_ms: percentile(v, 50), p95_ms: percentile(v, 95), p99_ms: percentile(v, 99), max_ms: Math.max(...v), target });
  printTable('Two instances on one SQLite store: approve through A → ApprovalGranted delivered over graphql-ws', [
    row('ack by A → delivered on B (other instance)', latency.b, 'p99 ≤ 100 ms'),
    row('ack by A → delivered on A (same instance)', latency.a, '(0: before the ack)'),
    row('approve sent → delivered on B', fromSend.b, ''),
    row('approve sent → delivered on A (baseline)', fromSend.a, ''),
  ]);
}
