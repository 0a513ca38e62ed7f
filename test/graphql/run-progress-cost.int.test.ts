import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { rawSocket, type ServerHarness, startServer, TOKENS, until } from '../support/server-harness.js';

const START = `mutation($input: StartRunInput!) { startRun(input: $input) { runId steps { approvalId } } }`;
const PROGRESS = `subscription($id: ID!) { runProgress(runId: $id) { status steps { status } } }`;
const APPROVE = `mutation($id: ID!) { approve(input: { approvalId: $id }) { approval { status } } }`;

/** The server's work per runProgress subscription and message (the bench's ~10 messages per run). */
describe('runProgress: what each subscription and message costs the server', () => {
  let s: ServerHarness;
  beforeAll(async () => { s = await startServer(); });
  afterAll(async () => { await s?.close(); });

  const waitingRun = async () => {
    const started = await s.gql<{ startRun: { runId: string; steps: Array<{ approvalId: string }> } }>(TOKENS.developer, START, {
      input: { goal: 'cost', profile: 'enterprise', steps: [{ id: 'd', tool: 'deploy.release', domain: 'deploys', input: { environment: 'staging', version: '5' } }] },
    });
    return started.body.data!.startRun;
  };

  it('subscribing reads the run stream twice: its newest event (which also proves the run exists) and the catch-up after it', async () => {
    const { runId } = await waitingRun();
    const reads: Array<{ direction?: string }> = [];
    const original = s.app.store.readStream.bind(s.app.store);
    const spy = vi.spyOn(s.app.store, 'readStream').mockImplementation((streamId, options) => {
      if (streamId === `run-${runId}`) reads.push({ direction: options?.direction });
      return original(streamId, options);
    });
    try {
      const raw = await rawSocket(s.wsUrl, { authorization: `Bearer ${TOKENS.developer}` });
      await until(() => raw.messages.some((m) => m.type === 'connection_ack'));
      raw.ws.send(JSON.stringify({ id: 'p', type: 'subscribe', payload: { query: PROGRESS, variables: { id: runId } } }));
      await until(() => raw.messages.some((m) => m.type === 'next'));
      // Before: a third read, forwards from the start, only to ask whether the run exists.
      expect(reads).toEqual([{ direction: 'backwards' }, { direction: undefined }]);
      raw.ws.close();
    } finally {
      spy.mockRestore();
    }
    // A run that does not exist is still refused, with nothing opened.
    const raw = await rawSocket(s.wsUrl, { authorization: `Bearer ${TOKENS.developer}` });
    await until(() => raw.messages.some((m) => m.type === 'connection_ack'));
    raw.ws.send(JSON.stringify({ id: 'x', type: 'subscribe', payload: { query: PROGRESS, variables: { id: 'no-such-run' } } }));
    await until(() => raw.messages.some((m) => m.type !== 'connection_ack'));
    const answer = raw.messages.find((m) => m.type !== 'connection_ack') as { type: string; payload: { data: unknown; errors: Array<{ message: string; extensions: { code: string } }> } };
    // As graphql-ws answers a subscribe whose source stream could not start: one result with the error.
    expect(answer.type).toBe('next');
    expect(answer.payload.data).toBeUndefined();
    expect(answer.payload.errors).toEqual([expect.objectContaining({ message: 'no run no-such-run', extensions: expect.objectContaining({ code: 'NOT_FOUND' }) })]);
    raw.ws.close();
  });

  it('each state is written to the socket as graphql-ws would write it, serialized once and not again by graphql-ws', async () => {
    const { runId, steps } = await waitingRun();
    const raw = await rawSocket(s.wsUrl, { authorization: `Bearer ${TOKENS.developer}` });
    await until(() => raw.messages.some((m) => m.type === 'connection_ack'));
    const texts: string[] = [];
    raw.ws.on('message', (m) => texts.push(String(m)));
    raw.ws.send(JSON.stringify({ id: 'progress-1', type: 'subscribe', payload: { query: PROGRESS, variables: { id: runId } } }));
    await until(() => texts.length >= 1);
    const stringify = vi.spyOn(JSON, 'stringify');
    let messageObjects: unknown[] = [];
    try {
      const ok = await s.gql(TOKENS.tech_lead, APPROVE, { id: steps[0]!.approvalId });
      expect(ok.body.errors).toBeUndefined();
      await until(() => texts.some((t) => t.includes('"SUCCEEDED"') && t.includes('"type":"next"')));
      // graphql-ws's own emit serializes `{ id, type: 'next', payload }` objects; the direct write does not.
      messageObjects = stringify.mock.calls.map(([v]) => v).filter((v) => typeof v === 'object' && v !== null && (v as { type?: unknown }).type === 'next');
    } finally {
      stringify.mockRestore();
    }
    expect(messageObjects).toEqual([]);
    // The bytes are graphql-ws's: id, type, payload, in that order, the payload as execution gives it.
    for (const text of texts) expect(text).toMatch(/^\{"id":"progress-1","type":"next","payload":\{"data":\{"runProgress":\{"status":"[A-Z_]+","steps":\[\{"status":"[A-Z_]+"\}\]\}\}\}\}$/);
    expect(JSON.parse(texts[texts.length - 1]!)).toEqual({ id: 'progress-1', type: 'next', payload: { data: { runProgress: { status: 'SUCCEEDED', steps: [{ status: 'SUCCEEDED' }] } } } });
    raw.ws.close();
  });

  it('a state whose execution has a field error still goes out, masked as graphql-ws\'s onNext masks it', async () => {
    const { runId } = await waitingRun();
    const raw = await rawSocket(s.wsUrl, { authorization: `Bearer ${TOKENS.viewer}` });
    await until(() => raw.messages.some((m) => m.type === 'connection_ack'));
    const texts: string[] = [];
    raw.ws.on('message', (m) => texts.push(String(m)));
    // A viewer may follow a run but not read tool outputs: the field errors, the rest of the state is sent.
    raw.ws.send(JSON.stringify({ id: 'v', type: 'subscribe', payload: { query: `subscription($id: ID!) { runProgress(runId: $id) { status steps { output } } }`, variables: { id: runId } } }));
    await until(() => texts.length >= 1);
    const first = JSON.parse(texts[0]!) as { id: string; type: string; payload: { data: { runProgress: { status: string; steps: Array<{ output: unknown }> } }; errors: Array<Record<string, unknown>> } };
    expect(first.type).toBe('next');
    expect(first.payload.data.runProgress).toEqual({ status: 'RUNNING', steps: [{ output: null }] });
    expect(first.payload.errors).toEqual([{ message: 'not allowed for this role', locations: expect.any(Array), path: ['runProgress', 'steps', 0, 'output'], extensions: { code: 'UNAUTHORIZED' } }]);
    expect(texts[0]).not.toMatch(/stack|\.js:\d/);
    raw.ws.close();
  });
});
