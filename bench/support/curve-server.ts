/**
 * The cost curves that need a real server (`npm run bench -- curves`): Gatehouse started in this
 * process as `npm start` composes it (startGatehouse, SQLite, real HTTP and WebSockets).
 * - fan-out: one appended event → the last of 10, 100 and 1,000 graphql-ws subscribers, the
 *   subscribers in child processes (bench/support/fan-out.ts), beside a raw `ws` broadcast;
 * - approvals: the approve mutation's HTTP round trip with 0, 100 and 1,000 approvals open.
 */
import { performance } from 'node:perf_hooks';
import { benchGated, DEV, LEAD, startBenchServer } from './bench-server.js';
import { type CurvePoint, cpuMs, point } from './curve-engine.js';
import { monotonicMs, nextMessage, rawBroadcastServer, startSwarm } from './fan-out.js';
import { median, percentile } from './measure.js';

/** Holders of the open approvals: a developer may hold 5 open at once (the default pending limit). */
const HOLDERS = 400;
const holderToken = (k: number) => `bench-holder-token-${String(k).padStart(5, '0')}`;
const START = 'mutation($input: StartRunInput!) { startRun(input: $input) { runId steps { approvalId } } }';
const APPROVE = 'mutation($id: ID!) { approve(input: { approvalId: $id }) { approval { status } } }';
const gatedRun = { goal: 'curve', profile: 'technical', steps: [{ id: 's', tool: 'bench.gated', domain: 'bench', input: {} }] };

/** A started server in `dir` and a GraphQL-over-HTTP caller for it. */
export async function benchServer(dir: string) {
  const { app, url, gql } = await startBenchServer(dir, {
    tools: [benchGated],
    tokens: Array.from({ length: HOLDERS }, (_, k) => ({ token: holderToken(k), id: `holder-${k}`, role: 'developer' as const })),
  });
  const startGated = async (token: string) => (await gql(token, START, { input: gatedRun })).startRun as { runId: string; steps: Array<{ approvalId: string }> };
  return { app, url, gql, startGated };
}
type BenchServer = Awaited<ReturnType<typeof benchServer>>;

/**
 * Append → last subscriber (ms) for each subscriber count: a fresh run paused at its gate per
 * count; `warmup` + `appends` one-event appends to its stream, one at a time, each timed from just
 * before the append to the moment the last subscriber (in the subscriber processes) has it. Each
 * append is followed by the baseline: the same bytes sent by a plain `ws` server in this process to
 * as many sockets of the same kind of subscriber processes (bench/support/fan-out.ts).
 */
export async function fanOutCurve({ app, url, startGated }: BenchServer, sizes: readonly number[], appends: number, warmup = 10): Promise<CurvePoint[]> {
  const points: CurvePoint[] = [];
  const raw = await rawBroadcastServer();
  try {
    for (const n of sizes) {
      const { runId } = await startGated(DEV);
      const head = await app.store.readStream(`run-${runId}`);
      const after = Buffer.from(`ev:${runId}:${head.length - 1}`).toString('base64url');
      const swarm = await startSwarm({ url: url.replace('http', 'ws'), token: DEV, runId, after, n, mode: 'graphql-ws' });
      const base = await startSwarm({ url: raw.url, token: DEV, runId, after, n, mode: 'raw' });
      if (raw.clients() !== n) throw new Error(`the baseline server holds ${raw.clients()} sockets, not ${n}`);
      const samples: number[] = [];
      const baseline: number[] = [];
      // CPU time of the server (this process) and of the subscribers over the measured appends.
      let serverCpu = 0;
      let swarmCpu = 0;
      let rawCpu = 0;
      for (let i = 0; i < warmup + appends; i++) {
        const revision = head.length + i;
        const arrived = swarm.arrival(revision);
        const c0 = cpuMs();
        const t0 = monotonicMs();
        await app.store.append(`run-${runId}`, [{ type: 'BudgetWarning', data: { scope: { kind: 'total' }, used: i, limit: 1_000_000, percent: 0 }, metadata: { correlationId: runId, actor: 'system:bench' } }], { expectedRevision: revision - 1 });
        const got = await arrived;
        const c1 = cpuMs();
        const baseArrived = base.arrival(revision);
        const rc0 = cpuMs();
        const b0 = monotonicMs();
        raw.broadcast(nextMessage(revision));
        const baseGot = await baseArrived;
        if (i >= warmup) rawCpu += cpuMs() - rc0;
        if (i === warmup - 1) swarmCpu = -got.cpuMs;
        if (i === warmup + appends - 1) swarmCpu += got.cpuMs;
        if (i >= warmup) {
          samples.push(got.at - t0);
          baseline.push(baseGot.at - b0);
          serverCpu += c1 - c0;
        }
      }
      await Promise.all([swarm.close(), base.close()]);
      const perDelivery = (ms: number) => Math.round((ms * 1000) / (appends * n) * 10) / 10;
      points.push(point(`${n.toLocaleString('en-US')} subscribers`, samples, {
        'max ms': percentile(samples, 100), 'raw ws p50 ms': median(baseline), 'raw ws p99 ms': percentile(baseline, 99),
        'p50 ÷ raw': Math.round((median(samples) / median(baseline)) * 100) / 100, 'p99 ÷ raw': Math.round((percentile(samples, 99) / percentile(baseline, 99)) * 100) / 100,
        'server CPU ms per event': serverCpu / appends, 'server CPU µs per delivery': perDelivery(serverCpu), 'raw ws CPU µs per delivery': perDelivery(rawCpu), 'subscribers\' CPU µs per delivery': perDelivery(swarmCpu),
      }));
    }
  } finally {
    await raw.close();
  }
  return points;
}

/**
 * The approve mutation's HTTP round trip (ms, read-your-writes included) with each count of
 * approvals open (gated runs started by holder requesters, 5 each, growing from one count to the
 * next); per count `samples` gated runs started by a developer and approved by a tech lead, after
 * 20 warm-up ones. Beside it, this process's CPU time per approve (server and HTTP client: both
 * are here) and approve sent → ToolCallStarted read from the store in this process.
 */
export async function approvalsCurve({ app, gql, startGated }: BenchServer, sizes: readonly number[], samples: number): Promise<CurvePoint[]> {
  const points: CurvePoint[] = [];
  const started = new Map<string, number>();
  const watch = app.store.subscribeToAll({ after: 'end', filter: { eventTypes: ['ToolCallStarted'] } });
  void (async () => { for await (const e of watch) started.set(e.metadata.correlationId, performance.now()); })();
  let open = 0;
  try {
    for (const size of sizes) {
      if (size > HOLDERS * 5) throw new Error(`at most ${HOLDERS * 5} open approvals (${HOLDERS} holders × 5)`);
      // 10 at a time: filling is not what is measured.
      while (open < size) await Promise.all(Array.from({ length: Math.min(10, size - open) }, () => startGated(holderToken(Math.floor(open++ / 5)))));
      const roundTrip: number[] = [];
      const toStarted: number[] = [];
      let cpu = 0;
      for (let i = 0; i < 20 + samples; i++) {
        const { runId, steps } = await startGated(DEV);
        const t0 = performance.now();
        const c0 = cpuMs();
        await gql(LEAD, APPROVE, { id: steps[0]?.approvalId });
        const answered = performance.now();
        if (i >= 20) cpu += cpuMs() - c0;
        while (!started.has(runId)) await new Promise((res) => setImmediate(res));
        if (i >= 20) {
          roundTrip.push(answered - t0);
          toStarted.push((started.get(runId) as number) - t0);
        }
      }
      points.push(point(`${size.toLocaleString('en-US')} open`, roundTrip, { 'CPU ms per approve': cpu / samples, '→ ToolCallStarted p50 ms': percentile(toStarted, 50), '→ ToolCallStarted p99 ms': percentile(toStarted, 99) }));
    }
  } finally {
    await watch.close();
  }
  return points;
}
