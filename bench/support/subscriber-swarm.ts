/**
 * N WebSocket subscribers of one run's events, in a process of their own (bench/support/fan-out.ts
 * spawns one or several): the clients' work is not on the server's thread, as it would not be in
 * production. Each client speaks graphql-transport-ws itself over a bare `ws` socket
 * (connection_init with the token, subscribe, then one `JSON.parse` per message, as any client
 * must) rather than through graphql-ws's client, whose per-message checks cost about twice as much
 * CPU: on two shared cores that CPU competes with the server and was part of what was timed.
 * `mode: 'raw'` connects the same clients to the bench's plain WebSocket server (the baseline),
 * which sends the very same bytes without the graphql-ws handshake.
 *
 * Input: one JSON argument `{ url, token, runId, after, n, mode }`. Output, one JSON line each:
 * `{ connected: n }` once every socket is subscribed, then `{ revision, at, cpuMs }` when all n
 * subscribers have that revision, `at` being `process.hrtime` in milliseconds (the machine's
 * monotonic clock, the same in every process) and `cpuMs` this process's CPU time so far.
 */
import WebSocket from 'ws';

const { url, token, runId, after, n, mode } = JSON.parse(process.argv[2] as string) as { url: string; token: string; runId: string; after: string; n: number; mode: 'graphql-ws' | 'raw' };
const QUERY = 'subscription($id: ID!, $after: String) { runEvents(runId: $id, after: $after) { revision } }';
const counts = new Map<number, number>();
const say = (line: object) => process.stdout.write(`${JSON.stringify(line)}\n`);
const now = () => Number(process.hrtime.bigint()) / 1e6;

type Message = { type: string; id?: string; payload?: { data?: { runEvents?: { revision: number } } } };

/** One client: resolves once it is subscribed (graphql-ws: acknowledged; raw: open). */
function connect(): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, mode === 'graphql-ws' ? 'graphql-transport-ws' : undefined);
    socket.on('error', reject);
    socket.on('close', (code) => reject(new Error(`socket closed before it subscribed: ${code}`)));
    socket.on('open', () => {
      if (mode === 'raw') return resolve(socket);
      socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } }));
    });
    socket.on('message', (raw) => {
      const message = JSON.parse(String(raw)) as Message;
      switch (message.type) {
        case 'connection_ack':
          // One subscription per socket: its id is the same on every socket, so the server's bytes are too.
          socket.send(JSON.stringify({ id: 's', type: 'subscribe', payload: { query: QUERY, variables: { id: runId, after } } }));
          return resolve(socket);
        case 'next': {
          const revision = message.payload?.data?.runEvents?.revision as number;
          const count = (counts.get(revision) ?? 0) + 1;
          counts.set(revision, count);
          if (count === n) {
            const { user, system } = process.cpuUsage();
            say({ revision, at: now(), cpuMs: (user + system) / 1000 });
            counts.delete(revision);
          }
          return;
        }
        case 'ping':
          return socket.send('{"type":"pong"}');
        default:
          console.error('subscriber got', String(raw));
          process.exit(1);
      }
    });
  });
}

// Connected in batches of 50: a thousand sockets opened at once on a loaded machine can miss the
// server's 5 s connection_init deadline (4408), which is not what this measures.
const sockets: WebSocket[] = [];
while (sockets.length < n) sockets.push(...(await Promise.all(Array.from({ length: Math.min(50, n - sockets.length) }, connect))));
say({ connected: sockets.length });
// The bench closes stdin when it is done: leave cleanly (the server sees every socket close).
process.stdin.resume();
process.stdin.on('end', () => {
  for (const socket of sockets) socket.removeAllListeners('close').close(1000);
  void Promise.all(sockets.map((s) => new Promise((res) => (s.readyState === WebSocket.CLOSED ? res(undefined) : s.once('close', res))))).then(() => process.exit(0));
});
