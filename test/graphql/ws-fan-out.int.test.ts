import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type ServerHarness, startServer, TOKENS, until } from '../support/server-harness.js';

const START = `mutation($input: StartRunInput!) { startRun(input: $input) { runId } }`;
const EVENTS = `subscription($id: ID!, $after: String) { runEvents(runId: $id, after: $after) { revision type data } }`;
type Next = { id: string; type: string; payload: { data: { runEvents: { revision: number; data: unknown } | null } | null; errors?: Array<{ message: string; extensions: { code: string } }> } };

/** A graphql-transport-ws client on a bare socket, keeping every message's exact text. */
async function subscriber(url: string, token: string, id: string, variables: Record<string, unknown>): Promise<{ texts: string[]; binary: boolean[]; socket: WebSocket }> {
  const socket = new WebSocket(url, 'graphql-transport-ws');
  const texts: string[] = [];
  const binary: boolean[] = [];
  await new Promise<void>((resolve, reject) => {
    socket.on('error', reject);
    socket.on('open', () => socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } })));
    socket.on('message', (raw, isBinary) => {
      const text = String(raw);
      binary.push(isBinary);
      if ((JSON.parse(text) as { type: string }).type === 'connection_ack') {
        socket.send(JSON.stringify({ id, type: 'subscribe', payload: { query: EVENTS, variables } }));
        resolve();
      } else texts.push(text);
    });
  });
  return { texts, binary, socket };
}

/** What the server serializes for a runEvents result: the graphql-ws message, or the result alone. */
const isRunEventsPayload = (v: unknown): boolean => {
  if (typeof v !== 'object' || v === null) return false;
  const o = v as { type?: unknown; data?: unknown };
  if (o.type === 'next') return true;
  return 'data' in o && (o.data === null || (typeof o.data === 'object' && 'runEvents' in (o.data as object)));
};

describe('graphql-ws fan-out of one run\'s events', () => {
  let s: ServerHarness;
  beforeAll(async () => { s = await startServer(); });
  afterAll(async () => { await s?.close(); });

  it('many subscribers of one run: one serialization per role and operation, each socket gets its own id, and a viewer still gets no data', async () => {
    const started = await s.gql<{ startRun: { runId: string } }>(TOKENS.developer, START, {
      input: { goal: 'fan-out', profile: 'enterprise', steps: [{ id: 'd', tool: 'deploy.release', domain: 'deploys', input: { environment: 'staging', version: '4' } }] },
    });
    const runId = started.body.data!.startRun.runId;
    const stream = await s.app.store.readStream(`run-${runId}`);
    // From the second-newest event: each subscriber's first message proves it is subscribed.
    const variables = { id: runId, after: Buffer.from(`ev:${runId}:${stream.length - 2}`).toString('base64url') };
    // Two principals of the developer role (payloads visible), and viewers (payloads not) on the same operation.
    const tokens = [...Array(5).fill(TOKENS.developer), ...Array(5).fill(TOKENS.developer2), ...Array(3).fill(TOKENS.viewer)] as string[];
    const subs = await Promise.all(tokens.map((t, k) => subscriber(s.wsUrl, t, k === 0 ? 'first-one' : 's', variables)));
    try {
      await until(() => subs.every((x) => x.texts.length === 1));

      const stringify = vi.spyOn(JSON, 'stringify');
      let serialized: unknown[][] = [];
      try {
        await s.app.store.append(`run-${runId}`, [{ type: 'BudgetWarning', data: { scope: { kind: 'total' }, used: 1, limit: 1_000, percent: 0.1 }, metadata: { correlationId: runId, actor: 'system:test' } }], { expectedRevision: stream.length - 1 });
        await until(() => subs.every((x) => x.texts.length === 2));
        serialized = stringify.mock.calls.filter(([v]) => isRunEventsPayload(v));
      } finally {
        stringify.mockRestore();
      }
      // graphql-ws serialized one message per subscriber (13); shared, once per role: developer and viewer.
      expect(serialized).toHaveLength(2);

      const live = subs.map((x) => JSON.parse(x.texts[1] as string) as Next);
      expect(live.map((m) => m.id)).toEqual(['first-one', ...Array(12).fill('s')]);
      for (const [k, m] of live.entries()) {
        expect(m.type).toBe('next');
        if (tokens[k] === TOKENS.viewer) {
          expect(m.payload.data).toBeNull();
          expect(m.payload.errors).toEqual([expect.objectContaining({ message: 'not allowed for this role', extensions: { code: 'UNAUTHORIZED' } })]);
        } else {
          expect(m.payload.errors).toBeUndefined();
          expect(m.payload.data?.runEvents).toEqual({ revision: stream.length, type: 'BudgetWarning', data: { scope: { kind: 'total' }, used: 1, limit: 1_000, percent: 0.1 } });
        }
      }
      // Same role, two principals: the very same bytes.
      expect(new Set(subs.slice(1, 10).map((x) => x.texts[1])).size).toBe(1);
      // Byte for byte what graphql-ws itself sends (JSON.stringify of its message, in that key
      // order), in text frames as graphql-ws sends them: a browser client gets a string, not a Blob.
      for (const [k, x] of subs.entries()) {
        const m = live[k] as Next;
        expect(x.texts[1]).toBe(JSON.stringify({ id: m.id, type: 'next', payload: m.payload }));
        expect(x.binary).toEqual([false, false, false]);
      }
    } finally {
      for (const x of subs) x.socket.close();
    }
  });
});
