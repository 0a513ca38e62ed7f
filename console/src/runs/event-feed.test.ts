import { describe, expect, it } from 'vitest';
import { emptyFeed, type FeedSocket, type FeedState, type FeedStatus, openRunFeed, receive, resumeVariables, type TraceEvent } from './event-feed';

const event = (revision: number): TraceEvent => ({
  cursor: `c${revision}`, id: `e${revision}`, revision, position: String(100 + revision), type: revision === 0 ? 'RunStarted' : 'StepRouted',
  stage: 'INITIALIZE', actor: 'alice', recordedAt: '2026-01-01T00:00:00.000Z',
});

/** A graphql-ws client double: records each subscription, and lets the test drop the socket. */
function fakeSocket() {
  type Sink = { next: (m: { data?: unknown; errors?: Array<{ message: string }> }) => void; error: (e: unknown) => void; complete: () => void };
  const subscriptions: Array<{ variables: Record<string, unknown>; sink: Sink; released: boolean }> = [];
  const listeners: Record<string, Array<() => void>> = { closed: [], connected: [] };
  const socket = {
    subscribe: (payload: { variables?: Record<string, unknown> }, sink: Sink) => {
      const sub = { variables: { ...payload.variables }, sink, released: false };
      subscriptions.push(sub);
      return () => { sub.released = true; };
    },
    on: (name: string, listener: () => void) => {
      (listeners[name] ??= []).push(listener);
      return () => { listeners[name] = listeners[name]!.filter((l) => l !== listener); };
    },
  } as unknown as FeedSocket;
  const fire = (name: string) => listeners[name]!.forEach((l) => l());
  const last = () => subscriptions[subscriptions.length - 1]!;
  return { socket, subscriptions, fire, last, send: (e: TraceEvent) => last().sink.next({ data: { runEvents: e } }) };
}

describe('the cursor of a run feed', () => {
  it('keeps events in order and remembers the last cursor', () => {
    const s = [0, 1, 2].map(event).reduce(receive, emptyFeed);
    expect(s.events.map((e) => e.revision)).toEqual([0, 1, 2]);
    expect(resumeVariables('r1', s)).toEqual({ runId: 'r1', after: 'c2' });
    expect(resumeVariables('r1', emptyFeed)).toEqual({ runId: 'r1', after: null });
  });

  it('drops an event it has shown already (a replay around a reconnection)', () => {
    const s = [0, 1, 2, 1, 2, 3].map(event).reduce(receive, emptyFeed);
    expect(s.events.map((e) => e.id)).toEqual(['e0', 'e1', 'e2', 'e3']);
    expect(s.lastCursor).toBe('c3');
  });
});

describe('openRunFeed over a graphql-ws client', () => {
  function open() {
    const f = fakeSocket();
    const seen: Array<{ state: FeedState; status: FeedStatus; error?: string }> = [];
    const close = openRunFeed({ socket: f.socket, runId: 'r1', query: 'subscription', onChange: (state, status, error) => seen.push({ state, status, ...(error ? { error } : {}) }) });
    const now = () => seen[seen.length - 1]!;
    return { ...f, seen, now, close };
  }

  it('subscribes from the start, then after a drop resubscribes with the last cursor it saw and says reconnecting meanwhile', () => {
    const t = open();
    expect(t.subscriptions.map((s) => s.variables)).toEqual([{ runId: 'r1', after: null }]);
    expect(t.now().status).toBe('connecting');
    t.send(event(0));
    t.send(event(1));
    expect(t.now().status).toBe('live');
    t.fire('closed');
    expect(t.now().status).toBe('reconnecting');
    expect(t.subscriptions[0]!.released).toBe(true);
    expect(t.last().variables).toEqual({ runId: 'r1', after: 'c1' });
    // more failed attempts while the server is down: each resubscription still resumes from c1
    t.fire('closed');
    expect(t.last().variables).toEqual({ runId: 'r1', after: 'c1' });
    t.fire('connected');
    expect(t.now().status).toBe('live');
    t.send(event(1)); // a late duplicate: ignored
    t.send(event(2));
    expect(t.now().state.events.map((e) => e.revision)).toEqual([0, 1, 2]);
    t.close();
  });

  it('ignores what an old subscription still delivers after it was replaced', () => {
    const t = open();
    t.send(event(0));
    const old = t.last();
    t.fire('closed');
    old.sink.next({ data: { runEvents: event(5) } });
    old.sink.complete();
    expect(t.now().status).toBe('reconnecting');
    expect(t.now().state.events.map((e) => e.revision)).toEqual([0]);
    t.close();
  });

  it('shows a server refusal and stops resubscribing; closing releases the subscription', () => {
    const t = open();
    t.last().sink.error([{ message: 'no run r1' }]);
    expect(t.now()).toMatchObject({ status: 'error', error: 'no run r1' });
    const count = t.subscriptions.length;
    t.fire('closed');
    expect(t.subscriptions.length).toBe(count);
    t.close();
    expect(t.last().released).toBe(true);
  });
});
