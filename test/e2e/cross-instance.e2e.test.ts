import { join } from 'node:path';
import { createClient } from 'graphql-ws';
import { afterAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { repoRoot } from '../support/built.js';
import { type Child, spawnFixture } from '../support/processes.js';
import { TOKENS } from '../support/server-harness.js';
import { tempDir } from '../support/temp.js';

// Two built servers on one SQLite event store, each with its own data folder.
const tmp = tempDir('gatehouse-two-');
const children: Child[] = [];

async function spawnInstance(id: string): Promise<{ child: Child; url: string }> {
  const child = spawnFixture('src/server/main.ts', [], {
    PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'warn',
    GATEHOUSE_DATA_DIR: join(tmp.dir, id), GATEHOUSE_INSTANCE_ID: id,
    GATEHOUSE_EVENTSTORE: `sqlite://${join(tmp.dir, 'events.sqlite')}`,
    GATEHOUSE_CONFIG: join(repoRoot, 'test/fixtures/gatehouse.yaml'),
  });
  children.push(child);
  const ready = await child.waitForLine(/gatehouse ready on/);
  return { child, url: `http://127.0.0.1:${Number(/:(\d+)\/graphql/.exec(ready)?.[1])}/graphql` };
}

async function gql<T>(url: string, token: string, query: string, variables: Record<string, unknown> = {}): Promise<T> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify({ query, variables }) });
  const body = (await res.json()) as { data?: T; errors?: unknown[] };
  if (body.errors) throw new Error(JSON.stringify(body.errors));
  return body.data as T;
}

afterAll(async () => {
  for (const c of children) {
    if (c.process.exitCode === null && c.process.signalCode === null) {
      c.process.kill('SIGTERM');
      await c.exited;
    }
  }
  tmp.remove();
});

type Ev = { revision: number; id: string; type: string; instance: string | null };

describe('two server processes on one event store', () => {
  it('a graphql-ws subscriber on B sees every event of a run started and approved through A, exactly once and in order', async () => {
    const [a, b] = await Promise.all([spawnInstance('a'), spawnInstance('b')]);
    const started = await gql<{ startRun: { runId: string; steps: Array<{ approvalId: string }> } }>(a.url, TOKENS.developer,
      `mutation($input: StartRunInput!) { startRun(input: $input) { runId steps { approvalId } } }`,
      { input: { goal: 'ship', profile: 'enterprise', steps: [{ id: 'ship', tool: 'deploy.release', domain: 'deploys', input: { environment: 'production', version: '1.0' } }] } });
    const runId = started.startRun.runId;

    const client = createClient({ url: b.url.replace('http', 'ws'), webSocketImpl: WebSocket, retryAttempts: 0, connectionParams: { authorization: `Bearer ${TOKENS.developer}` } });
    const seen: Ev[] = [];
    const ended = new Promise<void>((resolve, reject) => {
      client.subscribe<{ runEvents: Ev }>({ query: `subscription($runId: ID!) { runEvents(runId: $runId) { revision id type instance } }`, variables: { runId } }, {
        next: (m) => {
          if (m.errors) reject(new Error(JSON.stringify(m.errors)));
          const e = m.data?.runEvents;
          if (e) seen.push(e);
          if (e && ['RunCompleted', 'RunFailed', 'RunCancelled'].includes(e.type)) resolve();
        },
        error: reject,
        complete: () => resolve(),
      });
    });
    // Approved through A once B's subscriber holds the gate: what follows reaches B live.
    const deadline = Date.now() + 20_000;
    while (!seen.some((e) => e.type === 'ApprovalRequested') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    await gql(a.url, TOKENS.tech_lead, `mutation($id: ID!) { approve(input: { approvalId: $id, justification: "ship it" }) { approval { status } } }`, { id: started.startRun.steps[0]!.approvalId });
    await ended;
    await client.dispose();

    const log = await gql<{ runEvents: { edges: Array<{ node: Ev }> } }>(a.url, TOKENS.developer, `query($runId: ID!) { runEvents(runId: $runId, first: 100) { edges { node { revision id type instance } } } }`, { runId });
    const expected = log.runEvents.edges.map((e) => e.node);
    expect(seen).toEqual(expected); // every event, once, in stream order
    expect(expected.map((e) => e.type)).toContain('ApprovalGranted');
    expect(expected.at(-1)?.type).toBe('RunCompleted');
    // Each event names the instance whose engine decided it; what came through A's API says A.
    expect(expected.every((e) => e.instance === 'a' || e.instance === 'b')).toBe(true);
    expect(expected.filter((e) => e.type === 'RunStarted' || e.type === 'ApprovalGranted').map((e) => e.instance)).toEqual(['a', 'a']);
  });
});
