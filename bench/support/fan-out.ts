/**
 * The fan-out measurement shared by the curves and api benches: N WebSocket subscribers of one
 * run's events, spread over subscriber processes (bench/support/subscriber-swarm.ts), and one
 * event at a time timed from just before it is appended (or, for the baseline, sent) in this
 * process to the moment the last subscriber has it, on the machine's monotonic clock.
 *
 * The baseline: a plain `ws` WebSocketServer in this process (where the Gatehouse server runs)
 * that sends the same bytes graphql-ws sends for one event, serialized once, to the same number
 * of sockets held by the same subscriber processes. Gatehouse ÷ baseline is what the server adds
 * to the bare socket writes, and moves much less with the machine's load than either figure.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { WebSocketServer } from 'ws';

/** Subscriber processes per measurement (`FANOUT_SWARMS`, default 2: one per core of this machine). */
export const swarmProcesses = () => Math.max(1, Number(process.env.FANOUT_SWARMS ?? 2));

/** The monotonic clock in milliseconds, the same in every process on the machine. */
export const monotonicMs = () => Number(process.hrtime.bigint()) / 1e6;

/** One arrival: when the last subscriber of every process had the revision, and the processes' CPU ms so far. */
export interface Arrival {
  readonly at: number;
  readonly cpuMs: number;
}

/** Subscribers connected and subscribed; `arrival(revision)` must be asked before that revision is sent. */
export interface Swarm {
  arrival(revision: number): Promise<Arrival>;
  close(): Promise<void>;
}

export interface SwarmOptions {
  readonly url: string;
  readonly token: string;
  readonly runId: string;
  /** The runEvents cursor the subscriptions start after. */
  readonly after: string;
  readonly n: number;
  readonly mode: 'graphql-ws' | 'raw';
  readonly processes?: number;
}

/** Starts `n` subscribers over `processes` child processes and waits until all are subscribed. */
export async function startSwarm(options: SwarmOptions): Promise<Swarm> {
  const file = fileURLToPath(new URL('./subscriber-swarm.js', import.meta.url));
  const count = Math.min(options.processes ?? swarmProcesses(), options.n);
  const children: Array<{ child: ChildProcess; exited: Promise<unknown>; waiting: Map<number, (a: Arrival) => void> }> = [];
  const connected: Array<Promise<void>> = [];
  for (let k = 0; k < count; k++) {
    const share = Math.floor(options.n / count) + (k < options.n % count ? 1 : 0);
    const args = { url: options.url, token: options.token, runId: options.runId, after: options.after, n: share, mode: options.mode };
    // The same node flags as this process (e.g. --cpu-prof when profiling the bench).
    const child = spawn(process.execPath, [...process.execArgv, file, JSON.stringify(args)], { stdio: ['pipe', 'pipe', 'inherit'] });
    const waiting = new Map<number, (a: Arrival) => void>();
    const exited = new Promise((res) => child.once('exit', res));
    connected.push(new Promise<void>((resolve, reject) => {
      createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
        const msg = JSON.parse(line) as { connected?: number; revision?: number; at: number; cpuMs: number };
        if (msg.connected !== undefined) resolve();
        else waiting.get(msg.revision as number)?.({ at: msg.at, cpuMs: msg.cpuMs });
      });
      void exited.then(() => reject(new Error('a subscriber process exited before its subscribers connected')));
    }));
    children.push({ child, exited, waiting });
  }
  await Promise.all(connected);
  return {
    async arrival(revision) {
      const each = await Promise.all(children.map(({ waiting }) => new Promise<Arrival>((res) => waiting.set(revision, res))));
      for (const { waiting } of children) waiting.delete(revision);
      return { at: Math.max(...each.map((a) => a.at)), cpuMs: each.reduce((sum, a) => sum + a.cpuMs, 0) };
    },
    async close() {
      for (const { child } of children) child.stdin?.end();
      await Promise.all(children.map(({ exited }) => exited));
    },
  };
}

/** What graphql-ws sends a subscriber of `{ runEvents { revision } }` with subscription id `s`. */
export const nextMessage = (revision: number) => JSON.stringify({ id: 's', type: 'next', payload: { data: { runEvents: { revision } } } });

/** The baseline server: plain `ws` on a port of its own; `broadcast` writes one string to every socket. */
export async function rawBroadcastServer(): Promise<{ url: string; clients(): number; broadcast(data: string): void; close(): Promise<void> }> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((res) => wss.once('listening', () => res()));
  const { port } = wss.address() as { port: number };
  return {
    url: `ws://127.0.0.1:${port}`,
    clients: () => wss.clients.size,
    broadcast: (data) => {
      for (const socket of wss.clients) socket.send(data);
    },
    close: () => new Promise<void>((res) => {
      for (const socket of wss.clients) socket.terminate();
      wss.close(() => res());
    }),
  };
}
