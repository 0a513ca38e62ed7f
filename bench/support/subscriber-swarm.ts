/**
 * N graphql-ws subscribers of one run's events, in a process of their own (the cost-curves bench
 * spawns it): the clients' parsing of N messages per event is not on the server's thread, as it
 * would not be in production. Input: one JSON argument `{ url, token, runId, after, n }`. Output,
 * one JSON line each: `{ connected: n }` once every socket is open, then `{ revision, at }` when
 * the n-th subscriber has received that revision, `at` being `performance.timeOrigin +
 * performance.now()` (milliseconds on the machine's clock, comparable across processes), and
 * `cpuMs` this process's CPU time so far (what the subscribers cost, apart from the server).
 */
import { performance } from 'node:perf_hooks';
import { type Client, createClient } from 'graphql-ws';
import WebSocket from 'ws';

const { url, token, runId, after, n } = JSON.parse(process.argv[2] as string) as { url: string; token: string; runId: string; after: string; n: number };
const counts = new Map<number, number>();
const say = (line: object) => process.stdout.write(`${JSON.stringify(line)}\n`);
const subscribe = (client: Client) =>
  client.subscribe({ query: 'subscription($id: ID!, $after: String) { runEvents(runId: $id, after: $after) { revision } }', variables: { id: runId, after } }, {
    next: (v) => {
      const revision = (v.data as { runEvents: { revision: number } }).runEvents.revision;
      const count = (counts.get(revision) ?? 0) + 1;
      counts.set(revision, count);
      if (count === n) {
        const { user, system } = process.cpuUsage();
        say({ revision, at: performance.timeOrigin + performance.now(), cpuMs: (user + system) / 1000 });
        counts.delete(revision);
      }
    },
    error: (e) => { console.error('subscriber error', e); process.exit(1); },
    complete: () => {},
  });
// Connected in batches of 50: a thousand sockets opened at once on a loaded machine can miss the
// server's 5 s connection_init deadline (4408), which is not what this measures.
const clients: Client[] = [];
while (clients.length < n) {
  const batch = Array.from({ length: Math.min(50, n - clients.length) }, () => new Promise<Client>((res, rej) => {
    const client: Client = createClient({
      url, webSocketImpl: WebSocket, lazy: false, retryAttempts: 0,
      connectionParams: { authorization: `Bearer ${token}` },
      on: { connected: () => res(client), closed: (e) => rej(new Error(`socket closed before it connected: ${(e as { code?: number }).code}`)) },
    });
  }));
  for (const client of await Promise.all(batch)) {
    clients.push(client);
    subscribe(client);
  }
}
say({ connected: clients.length });
// The bench closes stdin when it is done: leave cleanly (the server sees every socket close).
process.stdin.resume();
process.stdin.on('end', () => { void Promise.all(clients.map((c) => c.dispose())).then(() => process.exit(0)); });
