/**
 * The API under load. First in this process over real HTTP and WebSockets on the SQLite store:
 * approve → ToolCallStarted latency and one event fanned out to 100 graphql-ws subscribers (in
 * child processes, beside a plain ws broadcast of the same bytes). Then
 * (api-vs-engine.ts) 5-step runs started by 10 HTTP clients with distinct tokens against the
 * in-process engine, each in its own server process. BENCH_API_PARTS=vs runs only the second part,
 * BENCH_API_PARTS=in-process only the first.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { benchGated, benchNoop, DEV, LEAD, startBenchServer } from './support/bench-server.js';
import { monotonicMs, nextMessage, rawBroadcastServer, startSwarm } from './support/fan-out.js';
import { percentile } from './support/measure.js';
import { printTable } from './support/table.js';
import { runApiVsEngine } from './api-vs-engine.js';

const FAN_OUT = 100;

export async function run(): Promise<void> {
  if (process.env.BENCH_API_PARTS !== 'vs') await inProcessPart();
  if (process.env.BENCH_API_PARTS !== 'in-process') await runApiVsEngine();
}

/** approve → ToolCallStarted and the fan-out, with the server in this process. */
async function inProcessPart(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-bench-api-'));
  const { app, url, gql } = await startBenchServer(dir, { tools: [benchNoop, benchGated] });
  const START = `mutation($input: StartRunInput!) { startRun(input: $input) { runId steps { approvalId } } }`;
  const rows = [];
  try {
    // 1. approve over HTTP → ToolCallStarted durably recorded. The clock starts right before the
    // HTTP request is sent and stops when a store subscriber in this process reads the event: it
    // can only read it once the append (ApprovalGranted + ToolCallStarted, one transaction) has
    // committed, so this is an upper bound on "recorded", never a lower one. The approve response
    // itself (which also waits for the read models: read-your-writes) is timed separately.
    const started = new Map<string, number>();
    const watch = app.store.subscribeToAll({ after: 'end', filter: { eventTypes: ['ToolCallStarted'] } });
    void (async () => { for await (const e of watch) started.set(e.metadata.correlationId, performance.now()); })();
    const approveMs: number[] = [];
    const roundTripMs: number[] = [];
    for (let i = 0; i < 520; i++) {
      const r = await gql(DEV, START, { input: { goal: 'g', profile: 'technical', steps: [{ id: 's', tool: 'bench.gated', domain: 'bench', input: {} }] } });
      const { runId, steps } = r.startRun as { runId: string; steps: Array<{ approvalId: string }> };
      const t0 = performance.now();
      await gql(LEAD, `mutation($id: ID!) { approve(input: { approvalId: $id }) { approval { status } } }`, { id: steps[0]!.approvalId });
      const answered = performance.now();
      while (!started.has(runId)) await new Promise((res) => setImmediate(res));
      if (i >= 20) {
        approveMs.push((started.get(runId) as number) - t0);
        roundTripMs.push(answered - t0);
      }
    }
    await watch.close();
    rows.push({ measure: 'approve (HTTP) → ToolCallStarted recorded', n: approveMs.length, p50_ms: percentile(approveMs, 50), p95_ms: percentile(approveMs, 95), p99_ms: percentile(approveMs, 99), target: 'p99 ≤ 6 ms' });
    rows.push({ measure: 'approve HTTP round trip (read-your-writes)', n: roundTripMs.length, p50_ms: percentile(roundTripMs, 50), p95_ms: percentile(roundTripMs, 95), p99_ms: percentile(roundTripMs, 99), target: '' });

    // 2. one event → 100 graphql-ws subscribers of the run's events, the subscribers in their own
    // processes (bench/support/fan-out.ts: in this process their parsing shared the server's
    // thread and was timed with it), beside the same bytes sent by a plain ws server (the
    // baseline). Three rounds, each on a fresh run with 60 appends (10 of them warm-up): the engine
    // re-reads a paused run on every append it did not make itself, so one ever-growing stream
    // would time that re-read more than the fan-out.
    const fanMs: number[] = [];
    const rawMs: number[] = [];
    const raw = await rawBroadcastServer();
    try {
      for (let round = 0; round < 3; round++) {
        const r = await gql(DEV, START, { input: { goal: 'fan-out', profile: 'technical', steps: [{ id: 's', tool: 'bench.gated', domain: 'bench', input: {} }] } });
        const runId = r.startRun.runId as string;
        const head = await app.store.readStream(`run-${runId}`);
        const after = Buffer.from(`ev:${runId}:${head.length - 1}`).toString('base64url');
        const swarm = await startSwarm({ url: url.replace('http', 'ws'), token: DEV, runId, after, n: FAN_OUT, mode: 'graphql-ws' });
        const base = await startSwarm({ url: raw.url, token: DEV, runId, after, n: FAN_OUT, mode: 'raw' });
        for (let i = 0; i < 60; i++) {
          const revision = head.length + i;
          const arrived = swarm.arrival(revision);
          const t0 = monotonicMs();
          await app.store.append(`run-${runId}`, [{ type: 'BudgetWarning', data: { scope: { kind: 'total' }, used: i, limit: 1000, percent: 0.1 }, metadata: { correlationId: runId, actor: 'system:bench' } }], { expectedRevision: revision - 1 });
          const { at } = await arrived;
          const baseArrived = base.arrival(revision);
          const b0 = monotonicMs();
          raw.broadcast(nextMessage(revision));
          const baseAt = (await baseArrived).at;
          if (i >= 10) {
            fanMs.push(at - t0);
            rawMs.push(baseAt - b0);
          }
        }
        await Promise.all([swarm.close(), base.close()]);
      }
    } finally {
      await raw.close();
    }
    rows.push({ measure: `append → last of ${FAN_OUT} ws subscribers`, n: fanMs.length, p50_ms: percentile(fanMs, 50), p95_ms: percentile(fanMs, 95), p99_ms: percentile(fanMs, 99), target: 'p99 ≤ 10 ms' });
    rows.push({ measure: `baseline: the same bytes to ${FAN_OUT} sockets (plain ws)`, n: rawMs.length, p50_ms: percentile(rawMs, 50), p95_ms: percentile(rawMs, 95), p99_ms: percentile(rawMs, 99), target: '' });

  } finally {
    await app.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  printTable('API: HTTP and graphql-ws on SQLite (in process)', rows);
}
