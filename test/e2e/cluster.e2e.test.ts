import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createMemoryReadModelStore } from '../../src/adapters/readmodels/memory-read-model-store.js';
import { createSqliteReadModelStore } from '../../src/adapters/readmodels/sqlite-read-model-store.js';
import { createEsdbEventStore } from '../../src/adapters/eventstore/esdb/esdb-event-store.js';
import { createSqliteEventStore } from '../../src/adapters/eventstore/sqlite/sqlite-event-store.js';
import { verifyStream } from '../../src/domain/audit/verify.js';
import type { RecordedEvent } from '../../src/domain/ports/event-store.js';
import { dumpState, type ReadModelState } from '../../src/projections/documents.js';
import { allProjections, type Projection, ProjectionRunner } from '../../src/projections/index.js';
import { loadRun } from '../../src/orchestrator/run-repository.js';
import { repoRoot } from '../support/built.js';
import { ServerCluster } from '../support/cluster.js';
import { startEsdbDouble } from '../support/esdb-double/server.js';
import { RunFollower } from '../support/server-generations.js';
import { tempDir } from '../support/temp.js';

/**
 * Several Gatehouse instances on one event store (issue #17 item 5): three built server processes
 * on one shared SQLite file, each with its own data folder, one audit key and one token config.
 * Runs with approval gates are started over GraphQL against random instances and approved through
 * other instances; one instance is SIGKILLed mid-way and restarted later. Tools log each
 * invocation with the pid of the process that ran it, which is how work is attributed to instances.
 */
const FIXTURE = 'test/fixtures/server-with-test-tools.ts';
const RUNS = Number(process.env.CLUSTER_RUNS ?? 1_000);
// 1,000 runs on the double, as on SQLite: the earlier "did not finish in 500 s" did not recur (README "Running several instances").
const ESDB_RUNS = Number(process.env.CLUSTER_ESDB_RUNS ?? 1_000);
/** Every fifth run is followed over graphql-ws on instance 0 (never killed). */
const FOLLOWED = (i: number) => i % 5 === 0;
const TOKENS = { alice: 'alice-token-0000000001', dana: 'dana-token-000000000001', bob: 'bob-token-000000000001', erin: 'erin-token-000000000001', carol: 'carol-token-00000000001' };
const REQUESTERS = ['alice', 'dana'] as const;
const APPROVERS = ['bob', 'erin', 'carol'] as const;
const TERMINAL = ['RunCompleted', 'RunFailed', 'RunCancelled'];
const NON_IDEMPOTENT = ['fault.charge', 'fault.transfer'];
const START = 'mutation($i: StartRunInput!) { startRun(input: $i) { runId } }';
const PENDING = '{ pendingApprovals(first: 100, scope: ACTIONABLE) { edges { node { approvalId runId approvers } } } }';
const APPROVE = 'mutation($i: ApproveInput!) { approve(input: $i) { approval { status } } }';
const COUNTS = '{ running: runs(first: 1, filter: { status: RUNNING }) { totalCount } all: runs(first: 1) { totalCount } }';

/** Run i: a read, then a gated non-idempotent payment (every fourth needs two approvers). */
function plan(i: number) {
  return {
    goal: `cluster run ${i}`, profile: 'technical', errorStrategy: 'RETRY', idempotencyKey: `cluster-${i}`,
    steps: [
      { id: 'fetch', tool: 'fault.fetch', input: { n: i }, domain: 'ops' },
      { id: 'pay', tool: i % 4 === 3 ? 'fault.transfer' : 'fault.charge', input: { n: i, amount: 10 }, domain: 'ops', dependsOn: ['fetch'] },
    ],
  };
}

let cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

describe('several Gatehouse instances on one event store', () => {
  it(`three instances on one SQLite file: ${RUNS} gated runs through random instances, one instance SIGKILLed and restarted: exactly once, verified, read models equal a rebuild`, async () => {
    await scenario(RUNS, 3, 'sqlite');
  }, 900_000);

  it(`two instances on the EventStoreDB gRPC double: ${ESDB_RUNS} gated runs, the same checks`, async () => {
    await scenario(ESDB_RUNS, 2, 'esdb');
  }, 900_000);
});

/** The scenario: `INSTANCES` server processes on one store; the last one is killed and restarted. */
async function scenario(RUNS: number, INSTANCES: number, backend: 'sqlite' | 'esdb'): Promise<void> {
  const KILLED = INSTANCES - 1;
  const began = Date.now();
  const tmp = tempDir('gatehouse-cluster-');
  const storePath = join(tmp.dir, 'events.sqlite');
  const double = backend === 'esdb' ? await startEsdbDouble() : undefined;
  const eventStore = double ? double.connectionString : `sqlite://${storePath}`;
  const store = double ? createEsdbEventStore({ connectionString: double.connectionString }) : createSqliteEventStore({ path: storePath });
  cleanup.push(async () => { await store.close(); double?.close(); });
  const invocations = join(tmp.dir, 'invocations.log');
  const { privateKey } = generateKeyPairSync('ed25519');
  const keyPath = join(tmp.dir, 'audit-key.pem');
  writeFileSync(keyPath, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  const publicKeyPem = createPublicKey(privateKey).export({ type: 'spki', format: 'pem' }).toString();
  const dataDir = (i: number) => join(tmp.dir, `instance-${i}`);
  const cluster = new ServerCluster(FIXTURE, [invocations], (i) => ({
    PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'warn', GATEHOUSE_DATA_DIR: dataDir(i), GATEHOUSE_EVENTSTORE: eventStore,
    GATEHOUSE_AUDIT_KEY: keyPath, GATEHOUSE_CONFIG: join(repoRoot, 'test/fixtures/server-faults.yaml'),
  }), INSTANCES);
  const follower = new RunFollower(TOKENS.carol, TERMINAL);
  let finished = false;
  cleanup.push(async () => { finished = true; await follower.close(); cluster.killAll(); tmp.remove(); });
  const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));
  for (let i = 0; i < INSTANCES; i++) await cluster.start(i);
  follower.connect({ n: 0, url: cluster.instances[0]?.url as string });

  // Requesters start every run on a random live instance (retried with the run's idempotency key).
  const runIds: string[] = [];
  const startedOn = new Map<string, number>();
  const startErrors: string[] = [];
  const starter = async (lane: number, lanes: number) => {
    for (let i = lane; i < RUNS; i += lanes) {
      for (;;) {
        const body = await cluster.gql<{ startRun: { runId: string } }>(TOKENS[REQUESTERS[i % 2] as 'alice'], START, { i: plan(i) });
        const runId = body.data?.startRun.runId;
        if (runId) { runIds[i] = runId; startedOn.set(runId, body.by); if (FOLLOWED(i)) follower.follow(runId); break; }
        startErrors.push(body.errors?.[0]?.extensions?.code ?? 'UNKNOWN');
        if (startErrors.length > 200) throw new Error(`startRun keeps failing: ${JSON.stringify(body.errors)}`);
        await pause(50);
      }
    }
  };
  const started = Promise.all(Array.from({ length: 8 }, (_, lane) => starter(lane, 8)));
  const startedCount = () => runIds.filter(Boolean).length;

  // Approvers list what they may decide on a random instance and approve it through an
  // instance other than the one that started the run.
  const votes: Array<{ approvalId: string; approver: string; on: number; startedOn: number | undefined; alone: boolean }> = [];
  const refused: Record<string, number> = {};
  const approver = async (me: (typeof APPROVERS)[number]) => {
    while (!finished) {
      const page = await cluster.gql<{ pendingApprovals: { edges: Array<{ node: { approvalId: string; runId: string; approvers: string[] } }> } }>(TOKENS[me], PENDING);
      const open = (page.data?.pendingApprovals.edges ?? []).map((e) => e.node).filter((n) => !n.approvers.includes(me));
      for (const { approvalId, runId } of open) {
        const origin = startedOn.get(runId);
        // With two instances, while one is down the starter is the only one left to approve through
        // (the harness says so when it sent the vote there: the other may be back by the answer).
        const r = await cluster.gql<{ approve: unknown }>(TOKENS[me], APPROVE, { i: { approvalId, justification: `cluster test: ${me}` } }, { avoid: origin });
        if (r.data?.approve) votes.push({ approvalId, approver: me, on: r.by, startedOn: origin, alone: r.onAvoided });
        else { const code = r.errors?.[0]?.extensions?.code ?? 'UNKNOWN'; refused[code] = (refused[code] ?? 0) + 1; }
      }
      if (open.length === 0) await pause(100);
    }
  };
  const approving = Promise.all(APPROVERS.map(approver));

  // One instance is SIGKILLed a third of the way in and restarted two thirds of the way in.
  const waitFor = async (what: string, condition: () => boolean) => { while (!condition()) { if (Date.now() - began > 800_000) throw new Error(`timed out: ${what}`); await pause(50); } };
  await waitFor('a third of the runs started', () => startedCount() >= RUNS / 3);
  const killedAt = Date.now();
  await cluster.kill(KILLED);
  await waitFor('two thirds of the runs started', () => startedCount() >= (2 * RUNS) / 3);
  await cluster.start(KILLED);
  const restartedAt = Date.now();
  await started;

  const unfinishedOn = async (i: number) => {
    const body = await cluster.gql<{ running: { totalCount: number }; all: { totalCount: number } }>(TOKENS.carol, COUNTS, undefined, { prefer: i });
    return RUNS - (body.data?.all.totalCount ?? 0) + (body.data?.running.totalCount ?? RUNS);
  };
  // Every instance's read models show every run finished.
  for (let i = 0; i < INSTANCES; i++) {
    for (let left = await unfinishedOn(i); left > 0; left = await unfinishedOn(i)) {
      if (Date.now() - began > 800_000) throw new Error(`instance ${i}: ${left} runs still unfinished`);
      await pause(250);
    }
  }
  const allTerminalAt = Date.now();
  finished = true;
  await approving;

  // The subscriber on instance 0 has every event of each followed run (however long the log is).
  const streamOf = async (runId: string) => store.readStream(`run-${runId}`);
  for (const runId of runIds.filter((_, i) => FOLLOWED(i))) {
    const n = (await streamOf(runId)).length;
    await waitFor(`the subscriber to have all ${n} events of ${runId}`, () => (follower.received.get(runId)?.size ?? 0) >= n);
  }
  await follower.close();
  for (let i = 0; i < INSTANCES; i++) expect(await cluster.stop(i), `instance ${i} stops gracefully`).toEqual({ code: 0, signal: null });

  // From the shared store: every run terminal, every chain and signature verifies with the shared key.
  const all = await store.readAll();
  const streams = new Map<string, RecordedEvent[]>();
  for (const e of all) streams.set(e.streamId, [...(streams.get(e.streamId) ?? []), e]);
  expect(new Set(runIds).size).toBe(RUNS);
  const outcomes: Record<string, number> = {};
  for (const runId of runIds) {
    const { state } = await loadRun(store, runId);
    outcomes[state.status] = (outcomes[state.status] ?? 0) + 1;
    expect(['SUCCEEDED', 'PARTIAL', 'FAILED', 'CANCELLED'], runId).toContain(state.status);
  }
  for (const [streamId, events] of streams) {
    if (!streamId.startsWith('run-')) continue;
    const report = verifyStream(events, { publicKeyPem });
    expect(report.ok, `${streamId}: ${JSON.stringify(report.finding)}`).toBe(true);
    expect(report.signaturesVerified && report.sealed, streamId).toBe(true);
  }

  // Every non-idempotent key invoked at most once in the cluster, and once where it succeeded.
  const lines = existsSync(invocations) ? readFileSync(invocations, 'utf8').trim().split('\n').map((l) => l.split(' ')) : [];
  const invoked = new Map<string, number>();
  const pidOfRun = new Map<string, Set<number>>();
  for (const [kind, tool, key, pid] of lines) {
    if (kind !== 'invoke') continue;
    if (NON_IDEMPOTENT.includes(tool as string)) invoked.set(key as string, (invoked.get(key as string) ?? 0) + 1);
    const runId = (key as string).split(':')[0] as string;
    pidOfRun.set(runId, (pidOfRun.get(runId) ?? new Set()).add(Number(pid)));
  }
  expect([...invoked].filter(([, n]) => n > 1)).toEqual([]);
  const succeeded = new Set(all.filter((e) => e.type === 'ToolCallSucceeded').map((e) => `${e.streamId.slice(4)}:${(e.data as { stepId: string }).stepId}:${(e.data as { attempt: number }).attempt}`));
  for (const e of all.filter((x) => x.type === 'ToolCallStarted')) {
    const d = e.data as { tool: string; idempotencyKey: string };
    if (NON_IDEMPOTENT.includes(d.tool) && succeeded.has(d.idempotencyKey)) expect(invoked.get(d.idempotencyKey), d.idempotencyKey).toBe(1);
  }
  // Each vote is in the log once; every vote the API accepted is one of them, cast through another instance.
  const logged = new Map<string, number>();
  for (const e of all.filter((x) => x.type === 'ApprovalGranted')) {
    const d = e.data as { approvalId: string; approver: { id: string } };
    logged.set(`${d.approvalId} ${d.approver.id}`, (logged.get(`${d.approvalId} ${d.approver.id}`) ?? 0) + 1);
  }
  expect([...logged].filter(([, n]) => n !== 1)).toEqual([]);
  for (const v of votes) expect(logged.get(`${v.approvalId} ${v.approver}`), `${v.approvalId} by ${v.approver}`).toBe(1);
  expect(votes.filter((v) => v.on === v.startedOn && !v.alone)).toEqual([]);

  // The subscriber on instance 0 saw every event of the followed runs exactly once, in order,
  // including the runs driven (tools invoked) only by the other instances.
  const instanceOf = (pid: number) => cluster.instances.findIndex((x) => x.pids.includes(pid));
  let drivenByOthers = 0;
  let withOthersWork = 0;
  for (const [runId, seen] of follower.received) {
    const stream = streams.get(`run-${runId}`) ?? [];
    expect([...seen].filter(([, n]) => n !== 1), runId).toEqual([]);
    expect(follower.revisions.get(runId), runId).toEqual(stream.map((e) => e.revision));
    const pids = [...(pidOfRun.get(runId) ?? [])];
    // Another instance ran a step: its ToolCallStarted and result were appended by that process.
    if (pids.some((pid) => instanceOf(pid) !== 0)) withOthersWork++;
    if (pids.every((pid) => instanceOf(pid) !== 0)) drivenByOthers++;
  }
  expect(follower.errors).toEqual([]);

  // Every instance's read models, resumed from what it stored, equal a fresh rebuild of the log.
  const head = await store.headPosition();
  const dumps = async (runner: ProjectionRunner) => { await runner.waitFor(head as string, 60_000); return Object.fromEntries(allProjections.map((p) => [p.name, dumpState(runner.read(p as Projection<ReadModelState>))])); };
  const fresh = new ProjectionRunner({ store, readModels: createMemoryReadModelStore(), projections: allProjections });
  await fresh.start();
  const rebuilt = await dumps(fresh);
  await fresh.stop();
  const behindAtStop: number[] = [];
  for (let i = 0; i < INSTANCES; i++) {
    const readModels = createSqliteReadModelStore({ path: join(dataDir(i), 'local.sqlite') });
    if (allProjections.some((p) => readModels.load(p.name)?.checkpoint !== head)) behindAtStop.push(i);
    const resumed = new ProjectionRunner({ store, readModels, projections: allProjections });
    await resumed.start();
    const mine = await dumps(resumed);
    await resumed.stop();
    readModels.close();
    for (const p of allProjections) expect(mine[p.name] === rebuilt[p.name], `instance ${i}: ${p.name} equals a fresh rebuild`).toBe(true);
  }

  // Figures for the README: timings, takeover delay, distribution of work.
  const takeovers = all.filter((e) => e.recordedAt.getTime() > killedAt && ((e.type === 'ToolCallStarted' && (e.data as { recovered?: boolean }).recovered) || (e.type === 'ToolCallFailed' && (e.data as { error: { code?: string } }).error.code === 'INTERRUPTED')));
  const delays = takeovers.map((e) => e.recordedAt.getTime() - killedAt).sort((a, b) => a - b);
  // Never earlier than the rule: a re-claim comes after the first claim's timeout (5 s) + grace (2 s).
  const firstClaim = new Map(all.filter((e) => e.type === 'ToolCallStarted' && !(e.data as { recovered?: boolean }).recovered).map((e) => [(e.data as { idempotencyKey: string }).idempotencyKey, e.data as { startedAt: string; timeoutMs: number }]));
  const afterRule = takeovers.filter((e) => e.type === 'ToolCallStarted').map((e) => {
    const first = firstClaim.get((e.data as { idempotencyKey: string }).idempotencyKey) as { startedAt: string; timeoutMs: number };
    return e.recordedAt.getTime() - (Date.parse(first.startedAt) + first.timeoutMs + 2_000);
  }).sort((a, b) => a - b);
  expect(afterRule.filter((ms) => ms < 0)).toEqual([]);
  const byInstance = (f: (i: number) => number) => Object.fromEntries(cluster.instances.map((x) => [`i${x.index}`, f(x.index)]));
  const invocationsBy = byInstance((i) => lines.filter(([kind, , , pid]) => kind === 'invoke' && instanceOf(Number(pid)) === i).length);
  const runsDrivenBy = byInstance((i) => [...pidOfRun.values()].filter((pids) => [...pids].some((pid) => instanceOf(pid) === i)).length);
  const summary = {
    runs: RUNS, outcomes, events: all.length, startErrors: startErrors.length, votes: votes.length, refused,
    startedOn: byInstance((i) => [...startedOn.values()].filter((x) => x === i).length), votedOn: byInstance((i) => votes.filter((v) => v.on === i).length),
    invocationsBy, runsDrivenBy, takeovers: takeovers.length, takeoverMs: { first: delays[0], last: delays.at(-1) }, reclaimAfterOverdueMs: { min: afterRule[0], median: afterRule[Math.floor(afterRule.length / 2)], max: afterRule.at(-1) },
    killedAfterS: Math.round((killedAt - began) / 1000), downS: Math.round((restartedAt - killedAt) / 1000), allTerminalS: Math.round((allTerminalAt - began) / 1000),
    followedRuns: follower.received.size, followedWithOthersWork: withOthersWork, followedDrivenOnlyByOthers: drivenByOthers, readModelsBehindAtStop: behindAtStop, wallS: Math.round((Date.now() - began) / 1000),
  };
  console.log(`cluster (${backend}, ${INSTANCES} instances): ${JSON.stringify(summary)}`);
  expect(withOthersWork).toBeGreaterThan(0);
}
