import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { ReadStreamOptions } from '../../src/domain/ports/event-store.js';
import { runsProjection } from '../../src/projections/index.js';
import { rawSocket, type ServerHarness, startServer, TOKENS, until } from '../support/server-harness.js';

/**
 * An unexpected failure inside a resolver (here: the event store or a read model throwing a plain
 * Error whose message holds what an operator may see and a client must not) reaches the client as
 * INTERNAL_SERVER_ERROR with a fixed message, no stack and nothing of the original, over HTTP and
 * over graphql-ws; the operator's log keeps the original; and the server goes on serving.
 */

const SECRET = 'SQLITE_IOERR: disk I/O error on /var/lib/gatehouse/gatehouse.sqlite (password=hunter2-9f8e7d)';
const POISONED = 'poisoned-run';
const LEAKS = /hunter2|SQLITE|\/var\/lib|password|stack|\.ts:|\.js:|\n\s+at /;

function expectMasked(errors: unknown): void {
  expect(Array.isArray(errors) && errors.length > 0, JSON.stringify(errors)).toBe(true);
  for (const e of errors as Array<{ message: string; extensions: Record<string, unknown> }>) {
    expect(e.message).toBe('Internal server error');
    expect(e.extensions).toEqual({ code: 'INTERNAL_SERVER_ERROR' });
  }
  expect(JSON.stringify(errors)).not.toMatch(LEAKS);
}

describe('internal errors are masked, over HTTP and graphql-ws, and the server keeps serving', () => {
  let s: ServerHarness;
  let runId: string;
  const logged: unknown[] = [];

  beforeAll(async () => {
    s = await startServer();
    const r = await s.gql<{ startRun: { runId: string } }>(TOKENS.developer, `mutation($input: StartRunInput!) { startRun(input: $input) { runId } }`, {
      input: { goal: 'masked', profile: 'enterprise', steps: [{ id: 'd', tool: 'deploy.release', domain: 'deploys', input: { environment: 'staging', version: '1' } }] },
    });
    runId = r.body.data!.startRun.runId; // waits for approval: nothing moves during the tests
  });
  afterEach(() => { vi.restoreAllMocks(); });
  afterAll(async () => { await s?.close(); });

  /** The store fails on the poisoned run's stream, as a broken disk would, and works for the rest. */
  function poisonStore(): void {
    const store = s.app.store;
    const readStream = store.readStream.bind(store);
    vi.spyOn(store, 'readStream').mockImplementation(async (streamId: string, options?: ReadStreamOptions) => {
      if (streamId === `run-${POISONED}`) throw new Error(SECRET);
      return readStream(streamId, options);
    });
  }

  /** The harness's logger writes errors to console.error: what the operator sees. */
  function captureLog(): void {
    vi.spyOn(console, 'error').mockImplementation((...args: unknown[]) => void logged.push(args));
  }

  it('over HTTP: a query and a mutation that hit a failing store answer INTERNAL_SERVER_ERROR and append nothing; the log has the cause', async () => {
    captureLog();
    poisonStore();
    const head = await s.app.store.headPosition();

    const query = await s.gql(TOKENS.viewer, `query($id: ID!) { runEvents(runId: $id) { edges { cursor } } }`, { id: POISONED });
    expect(query.status).toBe(200);
    expect(query.body.data).toBeNull();
    expectMasked(query.body.errors);
    expect(query.body.errors![0]!.path).toEqual(['runEvents']);

    const mutation = await s.gql(TOKENS.tech_lead, `mutation($id: ID!) { cancelRun(runId: $id, reason: "stop") { status } }`, { id: POISONED });
    expect(mutation.body.data).toBeNull();
    expectMasked(mutation.body.errors);
    expect(JSON.stringify(mutation.body)).not.toMatch(LEAKS);
    expect(await s.app.store.headPosition()).toBe(head);

    // The operator's log keeps what the client was not told.
    const log = logged.map((args) => String((args as unknown[])[0]) + ' ' + String(((args as unknown[])[1] as { err?: Error } | undefined)?.err?.message));
    expect(log.filter((line) => line.includes('internal error') && line.includes(SECRET))).toHaveLength(2);

    // Working again once the store is: the same queries answer as they should.
    vi.restoreAllMocks();
    expect((await s.gql(TOKENS.viewer, `query($id: ID!) { runEvents(runId: $id) { edges { cursor } } }`, { id: POISONED })).body.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    const events = await s.gql<{ runEvents: { edges: unknown[] } }>(TOKENS.viewer, `query($id: ID!) { runEvents(runId: $id) { edges { cursor } } }`, { id: runId });
    expect(events.body.errors).toBeUndefined();
    expect(events.body.data!.runEvents.edges.length).toBeGreaterThan(0);
  });

  it('over graphql-ws: a failing subscribe, a failing query and a subscription that fails after it started are masked; the same connection serves on', async () => {
    captureLog();
    const { ws, messages } = await rawSocket(s.wsUrl, { authorization: `Bearer ${TOKENS.viewer}` });
    await until(() => messages.some((m) => m.type === 'connection_ack'));
    const framesOf = (id: string) => messages.filter((m) => m.id === id);
    const ended = (id: string) => framesOf(id).some((m) => m.type === 'complete' || m.type === 'error');
    const errorsOf = (id: string) => framesOf(id).flatMap((m) => (m.type === 'error' ? (m.payload as unknown[]) : ((m.payload as { errors?: unknown[] } | undefined)?.errors ?? [])));

    poisonStore();
    ws.send(JSON.stringify({ id: 'sub', type: 'subscribe', payload: { query: 'subscription($id: ID!) { runEvents(runId: $id) { cursor } }', variables: { id: POISONED } } }));
    ws.send(JSON.stringify({ id: 'query', type: 'subscribe', payload: { query: 'query($id: ID!) { runEvents(runId: $id) { edges { cursor } } }', variables: { id: POISONED } } }));
    await until(() => ended('sub') && ended('query'));
    expectMasked(errorsOf('sub'));
    expectMasked(errorsOf('query'));
    vi.restoreAllMocks();
    captureLog();

    // The run's read model fails once the subscription is open: the failure ends that operation only.
    const read = s.app.services.projections.read.bind(s.app.services.projections);
    vi.spyOn(s.app.services.projections, 'read').mockImplementation(((projection: Parameters<typeof read>[0]) => {
      if (projection === runsProjection) throw new Error(SECRET);
      return read(projection);
    }) as typeof read);
    ws.send(JSON.stringify({ id: 'live', type: 'subscribe', payload: { query: 'subscription($id: ID!) { runProgress(runId: $id) { status } }', variables: { id: runId } } }));
    await until(() => ended('live'));
    expect(framesOf('live').map((m) => m.type)).toEqual(['error']);
    expectMasked(errorsOf('live'));
    vi.restoreAllMocks();

    const text = JSON.stringify(messages);
    expect(text).not.toMatch(LEAKS);
    expect(text).toContain('INTERNAL_SERVER_ERROR');

    // Same socket, store and read models healthy again: a subscription and a query answer.
    ws.send(JSON.stringify({ id: 'again', type: 'subscribe', payload: { query: 'subscription($id: ID!) { runProgress(runId: $id) { runId status } }', variables: { id: runId } } }));
    ws.send(JSON.stringify({ id: 'me', type: 'subscribe', payload: { query: '{ me { id } }' } }));
    await until(() => framesOf('again').some((m) => m.type === 'next') && ended('me'));
    expect(framesOf('again')[0]).toMatchObject({ type: 'next', payload: { data: { runProgress: { runId, status: 'RUNNING' } } } });
    expect(framesOf('me')[0]).toMatchObject({ type: 'next', payload: { data: { me: { id: 'vera' } } } });
    expect(ws.readyState).toBe(ws.OPEN);
    ws.close();
    expect((await s.gql(TOKENS.viewer, `{ me { id } }`)).status).toBe(200);
  });
});
