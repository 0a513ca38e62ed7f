import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createSqliteEventStore } from '../../src/adapters/eventstore/sqlite/sqlite-event-store.js';
import type { RequesterEvent } from '../../src/domain/events/index.js';
import { evolveRequester, initialRequesterState, requesterStreamId } from '../../src/domain/requester/slots.js';
import { type Child, spawnFixture } from '../support/processes.js';
import { tempDir } from '../support/temp.js';

const LIMIT = 7;
const STARTS = 50;
const RITA = 'requester-token-000001';
const BOB = 'bob-token-000000000001';
const tmp = tempDir('gatehouse-pending-');
const shared = join(tmp.dir, 'events.sqlite');
const config = join(tmp.dir, 'gatehouse.yaml');
writeFileSync(
  config,
  [
    'auth:',
    '  tokens:',
    '    - { id: rita, role: requester, token: requester-token-000001 }',
    '    - { id: bob, role: tech_lead, token: bob-token-000000000001 }',
    '    - { id: root, role: admin, token: admin-token-00000000001 }',
    'approvals:',
    `  roles: { requester: { maxPending: ${LIMIT} } }`,
    '',
  ].join('\n'),
);

/** One server process: its own data folder (read models, run index), the log in the shared file. */
async function server(name: string): Promise<{ child: Child; url: string }> {
  const child = spawnFixture('src/server/main.ts', [], {
    PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'warn', GATEHOUSE_CONFIG: config,
    GATEHOUSE_DATA_DIR: join(tmp.dir, name), GATEHOUSE_EVENTSTORE: `sqlite://${shared}`,
  });
  const ready = await child.waitForLine(/gatehouse ready on/);
  return { child, url: `http://127.0.0.1:${Number(/:(\d+)\/graphql/.exec(ready)?.[1])}/graphql` };
}

async function gql(url: string, token: string, query: string, variables: Record<string, unknown>) {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify({ query, variables }) });
  return (await res.json()) as { data?: Record<string, { runId: string; steps: Array<{ approvalId: string | null }> }> | null; errors?: Array<{ message: string; extensions?: { code?: string } }> };
}

const START = 'mutation($input: StartRunInput!) { startRun(input: $input) { runId steps { approvalId } } }';
/** The run id the API derives from an idempotency key (src/orchestrator/api.ts). */
const runIdOf = (key: string) => createHash('sha256').update(`rita\u0000${key}`).digest('hex').slice(0, 32);
const deploy = (key: string) => ({
  input: { idempotencyKey: key, goal: `deploy ${key}`, profile: 'enterprise', steps: [{ id: 'deploy', tool: 'deploy.release', input: { environment: 'staging', version: '1.0' }, domain: 'deploys' }] },
});

describe('pending-approval limit across two server processes on one SQLite file', () => {
  const children: Child[] = [];
  afterAll(async () => {
    for (const c of children) if (c.process.exitCode === null) c.process.kill('SIGKILL');
    await Promise.all(children.map((c) => c.exited));
    tmp.remove();
  });

  it(`${STARTS} concurrent starts for one requester split over both: exactly the limit (${LIMIT}) pass`, async () => {
    const a = await server('a');
    children.push(a.child);
    const b = await server('b');
    children.push(b.child);
    const results = await Promise.all(Array.from({ length: STARTS }, (_, i) => gql(i % 2 === 0 ? a.url : b.url, RITA, START, deploy(`pl-${i}`))));
    const passed = results.filter((r) => r.data?.startRun);
    const refused = results.filter((r) => r.errors);
    expect(passed).toHaveLength(LIMIT);
    expect(refused).toHaveLength(STARTS - LIMIT);
    for (const r of refused) {
      expect(r.errors?.[0]?.extensions?.code).toBe('CONFLICT'); // ILLEGAL_STATE, as GraphQL says it
      expect(r.errors?.[0]?.message).toMatch(new RegExp(`pending limit reached: rita has ${LIMIT} open approval requests; role requester allows ${LIMIT}`));
    }
    // Deciding one gate (on the other server) gives its slot back: one more start passes.
    const first = passed[0]?.data?.startRun;
    const approvalId = first?.steps[0]?.approvalId as string;
    const granted = await gql(b.url, BOB, 'mutation($id: ID!) { approve(input: { approvalId: $id }) { approval { status } } }', { id: approvalId });
    expect(granted.errors).toBeUndefined();
    await expect.poll(async () => (await gql(a.url, RITA, START, deploy('pl-after'))).data?.startRun?.runId, { timeout: 10_000, interval: 200 }).toBe(runIdOf('pl-after'));

    for (const c of [a.child, b.child]) c.process.kill('SIGTERM');
    for (const c of [a.child, b.child]) expect((await c.exited).code).toBe(0);

    // The log: at no point did rita hold more than LIMIT slots; the slots held at the end are exactly
    // the open gates of her runs; refused starts appended nothing.
    const store = createSqliteEventStore({ path: shared });
    try {
      let state = initialRequesterState();
      for (const e of await store.readStream(requesterStreamId('rita'))) {
        state = evolveRequester(state, { type: e.type, data: e.data } as RequesterEvent);
        expect(state.held.length).toBeLessThanOrEqual(LIMIT);
      }
      const open: string[] = [];
      for (const id of [...Array.from({ length: STARTS }, (_, i) => `pl-${i}`), 'pl-after'].map(runIdOf)) {
        const events = await store.readStream(`run-${id}`);
        const closed = new Set(events.filter((e) => e.type !== 'ApprovalRequested').map((e) => (e.data as { approvalId?: string }).approvalId));
        for (const e of events) if (e.type === 'ApprovalRequested' && !closed.has((e.data as { approvalId: string }).approvalId)) open.push((e.data as { approvalId: string }).approvalId);
      }
      expect(open).toHaveLength(LIMIT);
      expect(state.held.map((s) => s.approvalId).sort()).toEqual(open.sort());
      for (const [i, r] of results.entries()) if (r.errors) expect(await store.readStream(`run-${runIdOf(`pl-${i}`)}`)).toEqual([]);
    } finally {
      await store.close();
    }
  });
});
