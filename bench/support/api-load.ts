/**
 * The HTTP side of `npm run bench -- api`: GraphQL clients against a Gatehouse server process,
 * each with its own token. A client learns that its run SUCCEEDED from the startRun answer when
 * the read model already says so, otherwise from a graphql-ws `runProgress` subscription (the
 * run's state at once, then after each of its events): nothing polls, nothing sleeps.
 */
import { performance } from 'node:perf_hooks';
import { type Client, createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { STEPS } from './api-shared.js';

const START = `mutation($input: StartRunInput!) { startRun(input: $input) { runId status steps { approvalId } } }`;
const APPROVE = `mutation($id: ID!) { approve(input: { approvalId: $id }) { approval { status } } }`;
const PROGRESS = `subscription($id: ID!) { runProgress(runId: $id) { status } }`;
const EVENTS = `subscription($id: ID!) { runEvents(runId: $id) { type data } }`;
const TERMINAL = new Set(['SUCCEEDED', 'PARTIAL', 'FAILED', 'CANCELLED']);
/** Diagnosis only (BENCH_API_FOLLOW): `progress` (default), `events` (runEvents until the terminal event), `none` (no wait). */
const FOLLOW = process.env.BENCH_API_FOLLOW ?? 'progress';

/** runProgress messages received, all clients together (how many states a run's followers are sent). */
export const progressMessages = { count: 0 };

/** One GraphQL client: its token over HTTP, and one graphql-ws connection for the ends of its runs. */
export interface BenchClient {
  gql(query: string, variables: Record<string, unknown>): Promise<Record<string, any>>;
  readonly ws: Client;
}

/** A client of `url` (the /graphql address) with `token`. */
export function benchClient(url: string, token: string): BenchClient {
  const gql = async (query: string, variables: Record<string, unknown>) => {
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify({ query, variables }) });
    const body = (await res.json()) as { data?: Record<string, any>; errors?: unknown[] };
    if (body.errors) throw new Error(JSON.stringify(body.errors));
    return body.data as Record<string, any>;
  };
  const ws = createClient({ url: url.replace(/^http/, 'ws'), webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${token}` }, retryAttempts: 0, lazy: false });
  return { gql, ws };
}

/** Resolves with the run's terminal status, told by the server over graphql-ws. */
function untilTerminal(ws: Client, runId: string): Promise<string> {
  if (FOLLOW === 'none') return Promise.resolve('SUCCEEDED');
  if (FOLLOW === 'events') {
    return new Promise((resolve, reject) => {
      const stop = ws.subscribe({ query: EVENTS, variables: { id: runId } }, {
        next: (v) => {
          const e = (v.data as { runEvents: { type: string; data: { status?: string } } } | undefined)?.runEvents;
          if (e?.type === 'RunCompleted' || e?.type === 'RunFailed' || e?.type === 'RunCancelled') {
            stop();
            resolve(e.type === 'RunCompleted' ? (e.data.status ?? 'SUCCEEDED') : e.type);
          }
        },
        error: reject,
        complete: () => {},
      });
    });
  }
  return new Promise((resolve, reject) => {
    const stop = ws.subscribe({ query: PROGRESS, variables: { id: runId } }, {
      next: (v) => {
        progressMessages.count++;
        const status = (v.data as { runProgress: { status: string } } | undefined)?.runProgress.status;
        if (status && TERMINAL.has(status)) {
          stop();
          resolve(status);
        }
      },
      error: reject,
      complete: () => {},
    });
  });
}

/** What a load pass measured. */
export interface LoadResult {
  readonly runsPerSecond: number;
  /** startRun round trips (ms). */
  readonly startMs: number[];
  /** How many runs were already SUCCEEDED in their startRun answer (the rest via the subscription). */
  readonly doneInAnswer: number;
}

/** One 5-step run: started over HTTP, followed until it ends; throws unless it SUCCEEDED. */
async function oneRun(client: BenchClient, startMs: number[], done: { inAnswer: number }): Promise<void> {
  const t0 = performance.now();
  const r = await client.gql(START, { input: { goal: 'bench', profile: 'technical', steps: STEPS } });
  startMs.push(performance.now() - t0);
  const { runId, status } = r.startRun as { runId: string; status: string };
  let end = status;
  if (TERMINAL.has(status)) done.inAnswer++;
  else end = await untilTerminal(client.ws, runId);
  if (end !== 'SUCCEEDED') throw new Error(`run ${runId} ended ${end}`);
}

/** `total` runs, each client one at a time (so `clients.length` in flight), timed until every one has SUCCEEDED. */
export async function loadPass(clients: readonly BenchClient[], total: number): Promise<LoadResult> {
  const startMs: number[] = [];
  const done = { inAnswer: 0 };
  let next = 0;
  const t0 = performance.now();
  await Promise.all(clients.map(async (client) => {
    while (next < total) {
      next++;
      await oneRun(client, startMs, done);
    }
  }));
  return { runsPerSecond: (total / (performance.now() - t0)) * 1000, startMs, doneInAnswer: done.inAnswer };
}

/**
 * Approve round trips: `requester` starts a one-step gated run, `approver` approves it; only the
 * approve request is timed (sent → answered, which includes its read-your-writes wait), until
 * `until()` says stop or `count` approvals were made.
 */
export async function approveLoop(requester: BenchClient, approver: BenchClient, count: number, until: () => boolean = () => false): Promise<number[]> {
  const ms: number[] = [];
  for (let i = 0; i < count && !until(); i++) {
    const r = await requester.gql(START, { input: { goal: 'approve', profile: 'technical', steps: [{ id: 's', tool: 'bench.gated', domain: 'bench', input: {} }] } });
    const approvalId = (r.startRun as { steps: Array<{ approvalId: string | null }> }).steps[0]?.approvalId;
    if (!approvalId) throw new Error('the gated step has no approval id');
    const t0 = performance.now();
    await approver.gql(APPROVE, { id: approvalId });
    ms.push(performance.now() - t0);
  }
  return ms;
}
