import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createSqliteEventStore } from '../../src/adapters/eventstore/sqlite/sqlite-event-store.js';
import { verifyStream } from '../../src/domain/audit/verify.js';
import type { RecordedEvent } from '../../src/domain/ports/event-store.js';
import { loadRun } from '../../src/orchestrator/run-repository.js';
import { repoRoot } from '../support/built.js';
import { gqlAcrossRestarts, RunFollower, ServerGenerations } from '../support/server-generations.js';
import { tempDir } from '../support/temp.js';

const FIXTURE = 'test/fixtures/server-with-test-tools.ts';
const RUNS = 500;
/** Every tenth run is followed over graphql-ws across the restarts. */
const FOLLOWED = (i: number) => i % 10 === 0;
const TOKENS = { alice: 'alice-token-0000000001', dana: 'dana-token-000000000001', bob: 'bob-token-000000000001', erin: 'erin-token-000000000001', carol: 'carol-token-00000000001' };
const REQUESTERS = ['alice', 'dana'] as const;
const APPROVERS = ['bob', 'erin', 'carol'] as const;
const TERMINAL = ['RunCompleted', 'RunFailed', 'RunCancelled'];
const NON_IDEMPOTENT = ['fault.charge', 'fault.transfer'];

const START = 'mutation($i: StartRunInput!) { startRun(input: $i) { runId } }';
const PENDING = '{ pendingApprovals(first: 100, scope: ACTIONABLE) { edges { node { approvalId approvers } } } }';
const APPROVE = 'mutation($i: ApproveInput!) { approve(input: $i) { approval { status } } }';
const RUNNING = '{ running: runs(first: 1, filter: { status: RUNNING }) { totalCount } all: runs(first: 1) { totalCount } }';
const EVENTS = 'query($id: ID!) { runEvents(runId: $id, first: 100) { edges { node { cursor } } pageInfo { hasNextPage } } }';

/** Run i: a read, a gated non-idempotent payment (every fourth needs two approvers), a flaky read. */
function plan(i: number) {
  const pay = i % 4 === 3 ? 'fault.transfer' : 'fault.charge';
  return {
    goal: `fault run ${i}`, profile: 'technical', errorStrategy: 'RETRY', idempotencyKey: `fault-${i}`,
    steps: [
      { id: 'fetch', tool: 'fault.fetch', input: { n: i }, domain: 'ops' },
      { id: 'pay', tool: pay, input: { n: i, amount: 10 }, domain: 'ops', dependsOn: ['fetch'] },
      { id: 'check', tool: 'fault.flaky', input: { n: i }, domain: 'ops', dependsOn: ['pay'] },
    ],
  };
}

let cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

describe('the built server under SIGKILL', () => {
  it('500 gated runs over GraphQL through ≥ 5 kills: all terminal, chains verify, nothing twice', async () => {
    const began = Date.now();
    const tmp = tempDir('gatehouse-faults-');
    const dataDir = join(tmp.dir, 'data');
    const invocations = join(tmp.dir, 'invocations.log');
    const servers = new ServerGenerations(FIXTURE, [invocations], {
      PORT: '0', HOST: '127.0.0.1', GATEHOUSE_DATA_DIR: dataDir, LOG_LEVEL: 'warn', GATEHOUSE_CONFIG: join(repoRoot, 'test/fixtures/server-faults.yaml'),
    });
    const follower = new RunFollower(TOKENS.carol, TERMINAL);
    let finished = false;
    cleanup.push(async () => { finished = true; await follower.close(); servers.killAll(); tmp.remove(); });
    const gql = <T>(who: keyof typeof TOKENS, query: string, variables?: Record<string, unknown>) => gqlAcrossRestarts<T>(servers, TOKENS[who], query, variables);
    const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));
    follower.connect(await servers.start());

    // Requesters start every run over HTTP, retrying across restarts with the run's idempotency key.
    const runIds: string[] = [];
    const startErrors: string[] = [];
    const starter = async (lane: number, lanes: number) => {
      for (let i = lane; i < RUNS; i += lanes) {
        for (;;) {
          const body = await gql<{ startRun: { runId: string } }>(REQUESTERS[i % 2] as keyof typeof TOKENS, START, { i: plan(i) });
          const runId = body.data?.startRun.runId;
          if (runId) { runIds[i] = runId; if (FOLLOWED(i)) follower.follow(runId); break; }
          startErrors.push(body.errors?.[0]?.extensions?.code ?? 'UNKNOWN');
          if (startErrors.length > 200) throw new Error(`startRun keeps failing: ${JSON.stringify(body.errors)}`);
          await pause(50);
        }
      }
    };
    const started = Promise.all(Array.from({ length: 8 }, (_, lane) => starter(lane, 8)));

    // Other principals poll what they may decide and approve it, each vote once (as far as they know).
    const granted: Array<{ approvalId: string; approver: string }> = [];
    const refused: Record<string, number> = {};
    const approver = async (me: (typeof APPROVERS)[number]) => {
      while (!finished) {
        const page = await gql<{ pendingApprovals: { edges: Array<{ node: { approvalId: string; approvers: string[] } }> } }>(me, PENDING);
        const open = (page.data?.pendingApprovals.edges ?? []).map((e) => e.node).filter((n) => !n.approvers.includes(me));
        for (const { approvalId } of open) {
          const r = await gql<{ approve: { approval: { status: string } } }>(me, APPROVE, { i: { approvalId, justification: `fault test: ${me}` } });
          if (r.data?.approve) granted.push({ approvalId, approver: me });
          else { const code = r.errors?.[0]?.extensions?.code ?? 'UNKNOWN'; refused[code] = (refused[code] ?? 0) + 1; }
        }
        if (open.length === 0) await pause(100); // nothing to decide: poll again, as a console would
      }
    };
    const approving = Promise.all(APPROVERS.map(approver));

    const unfinished = async () => {
      const body = await gql<{ running: { totalCount: number }; all: { totalCount: number } }>('carol', RUNNING);
      return RUNS - (body.data?.all.totalCount ?? 0) + (body.data?.running.totalCount ?? RUNS);
    };

    // SIGKILL at random moments until five kills have landed while runs were unfinished.
    let kills = 0;
    let killedWhileBusy = 0;
    for (let round = 0; killedWhileBusy < 5 && round < 20; round++) {
      await pause(300 + Math.floor(Math.random() * 1_700));
      if ((await unfinished()) > 0) killedWhileBusy++;
      await servers.kill();
      kills++;
      follower.connect(await servers.start());
    }

    await started;
    for (let left = await unfinished(); left > 0; left = await unfinished()) {
      if (Date.now() - began > 220_000) throw new Error(`${left} runs still unfinished`);
      await pause(250);
    }
    finished = true;
    await approving;
    // The follower has each followed run's whole stream (the API's own count) before the server stops.
    const expected = new Map<string, number>();
    for (const runId of runIds.filter((_, i) => FOLLOWED(i))) {
      const body = await gql<{ runEvents: { edges: unknown[]; pageInfo: { hasNextPage: boolean } } }>('carol', EVENTS, { id: runId });
      expect(body.data?.runEvents.pageInfo.hasNextPage).toBe(false);
      expected.set(runId, body.data?.runEvents.edges.length ?? -1);
    }
    for (let i = 0; [...expected].some(([id, n]) => (follower.received.get(id)?.size ?? 0) < n); i++) {
      if (i > 200) {
        const short = [...expected].filter(([id, n]) => (follower.received.get(id)?.size ?? 0) < n).map(([id, n]) => `${id}: ${follower.received.get(id)?.size}/${n} revisions ${JSON.stringify(follower.revisions.get(id))}`);
        throw new Error(`the subscriptions did not deliver every event:\n${short.join('\n')}\nends: ${follower.ends.slice(-20).join('\n')}`);
      }
      await pause(50);
    }
    await follower.close();
    expect(await servers.stop()).toEqual({ code: 0, signal: null });

    // Everything below is read from the store the server left behind.
    const store = createSqliteEventStore({ path: join(dataDir, 'gatehouse.sqlite') });
    cleanup.push(() => store.close());
    const all = await store.readAll();
    const streams = new Map<string, RecordedEvent[]>();
    for (const e of all) streams.set(e.streamId, [...(streams.get(e.streamId) ?? []), e]);

    const outcomes: Record<string, number> = {};
    for (const runId of runIds) {
      const { state } = await loadRun(store, runId);
      outcomes[state.status] = (outcomes[state.status] ?? 0) + 1;
      expect(['SUCCEEDED', 'PARTIAL', 'FAILED', 'CANCELLED']).toContain(state.status);
    }
    expect(new Set(runIds).size).toBe(RUNS);

    // Every run stream's chain, signed decisions and seal verify against the key in the data
    // folder (requester-<id> streams hold pending-approval slots, not decisions: they are not chained).
    const publicKeyPem = readFileSync(join(dataDir, 'audit-ed25519.pub.pem'), 'utf8');
    let signatures = 0;
    for (const [streamId, events] of streams) {
      if (!streamId.startsWith('run-')) continue;
      const report = verifyStream(events, { publicKeyPem });
      expect(report.ok, `${streamId}: ${JSON.stringify(report.finding)}`).toBe(true);
      expect(report.signaturesVerified && report.sealed).toBe(true);
      signatures += report.signaturesChecked;
    }

    // No key of a non-idempotent tool was invoked twice; every recorded success was invoked once.
    const lines = existsSync(invocations) ? readFileSync(invocations, 'utf8').trim().split('\n').map((l) => l.split(' ')) : [];
    const invoked = new Map<string, number>();
    for (const [kind, tool, key] of lines) if (kind === 'invoke' && NON_IDEMPOTENT.includes(tool as string)) invoked.set(key as string, (invoked.get(key as string) ?? 0) + 1);
    const twice = [...invoked].filter(([, n]) => n > 1);
    expect(twice).toEqual([]);
    const startedCalls = all.filter((e) => e.type === 'ToolCallStarted').map((e) => e.data as { stepId: string; tool: string; idempotencyKey: string });
    const succeeded = new Set(all.filter((e) => e.type === 'ToolCallSucceeded').map((e) => `${e.streamId}:${(e.data as { stepId: string; attempt: number }).stepId}:${(e.data as { attempt: number }).attempt}`));
    for (const call of startedCalls.filter((c) => NON_IDEMPOTENT.includes(c.tool))) {
      const [run, step, attempt] = call.idempotencyKey.split(':');
      if (succeeded.has(`run-${run}:${step}:${attempt}`)) expect(invoked.get(call.idempotencyKey)).toBe(1);
    }
    // An interrupted non-idempotent call is never followed by another attempt of its step.
    const interrupted = all.filter((e) => e.type === 'ToolCallFailed' && (e.data as { error: { code?: string } }).error.code === 'INTERRUPTED');
    for (const e of interrupted) {
      const { stepId } = e.data as { stepId: string };
      const calls = (streams.get(e.streamId) ?? []).filter((x) => x.type === 'ToolCallStarted' && (x.data as { stepId: string }).stepId === stepId);
      if (NON_IDEMPOTENT.includes((calls[0]?.data as { tool: string }).tool)) expect(calls.filter((x) => x.revision > e.revision)).toEqual([]);
    }

    // Each vote is in the log once; every vote the API accepted is one of them.
    const votes = new Map<string, number>();
    for (const e of all.filter((x) => x.type === 'ApprovalGranted')) {
      const d = e.data as { approvalId: string; approver: { id: string } };
      votes.set(`${d.approvalId} ${d.approver.id}`, (votes.get(`${d.approvalId} ${d.approver.id}`) ?? 0) + 1);
    }
    expect([...votes].filter(([, n]) => n !== 1)).toEqual([]);
    for (const g of granted) expect(votes.get(`${g.approvalId} ${g.approver}`), `${g.approvalId} by ${g.approver}`).toBe(1);

    // The subscriber saw each event once, across every restart, and all of each finished run.
    for (const [runId, seen] of follower.received) {
      expect([...seen].filter(([, n]) => n !== 1), runId).toEqual([]);
      const stream = streams.get(`run-${runId}`) ?? [];
      expect(follower.terminal.has(runId), runId).toBe(true);
      expect(follower.revisions.get(runId), runId).toEqual(stream.map((e) => e.revision));
      expect(seen.size).toBe(expected.get(runId));
    }
    expect(follower.errors).toEqual([]);

    const summary = {
      kills, killedWhileBusy, runs: RUNS, outcomes, events: all.length, signaturesVerified: signatures,
      approvalsGrantedViaApi: granted.length, approvalsRefused: refused, votesInLog: votes.size, startErrors: startErrors.length,
      nonIdempotentInvocations: invoked.size, interrupted: interrupted.length,
      followedRuns: follower.received.size, resubscriptions: follower.resubscriptions, wallSeconds: Math.round((Date.now() - began) / 1000),
    };
    console.log(`server faults: ${JSON.stringify(summary)}`);
    expect(kills).toBeGreaterThanOrEqual(5);
    expect(killedWhileBusy).toBeGreaterThanOrEqual(5);
  }, 240_000);
});
