import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { type Child, spawnFixture } from './processes.js';

/** One life of a server process: from its ready line to its death. */
export interface Generation {
  readonly n: number;
  readonly child: Child;
  readonly url: string;
  /** Set by the test before it kills the process: a request that fails now failed because of that. */
  dead: boolean;
}

/**
 * A built server fixture restarted again and again on one data folder. Clients ask for the live
 * generation and, when a request fails because it was killed, wait for the next one: they wait on
 * the restart, never on a clock.
 */
export class ServerGenerations {
  current?: Generation;
  private count = 0;
  private waiters: Array<() => void> = [];

  constructor(private readonly fixture: string, private readonly args: string[], private readonly env: NodeJS.ProcessEnv) {}

  /** Starts the next generation and waits for its ready line. */
  async start(): Promise<Generation> {
    const child = spawnFixture(this.fixture, this.args, this.env);
    const ready = await child.waitForLine(/gatehouse ready on/, 60_000);
    const generation: Generation = { n: this.count++, child, url: `http://127.0.0.1:${/:(\d+)\/graphql/.exec(ready)?.[1]}/graphql`, dead: false };
    this.current = generation;
    for (const w of this.waiters.splice(0)) w();
    return generation;
  }

  /** A live generation newer than `after` (-1: any live one). */
  async ready(after = -1): Promise<Generation> {
    for (;;) {
      const g = this.current;
      if (g && !g.dead && g.n > after) return g;
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }

  async kill(): Promise<void> {
    const g = this.current;
    if (!g) return;
    g.dead = true;
    g.child.process.kill('SIGKILL');
    await g.child.exited;
  }

  /** SIGTERM: the graceful stop; resolves with how the process ended. */
  async stop(): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    const g = this.current as Generation;
    g.dead = true;
    g.child.process.kill('SIGTERM');
    return g.child.exited;
  }

  /** Ends whatever still runs (test cleanup). */
  killAll(): void {
    if (this.current && this.current.child.process.exitCode === null) this.current.child.process.kill('SIGKILL');
  }
}

export type GqlBody<T = Record<string, unknown>> = { data?: T | null; errors?: Array<{ message: string; extensions?: { code?: string } }> };

/**
 * POST a GraphQL request to whichever generation is alive. A request that fails because the test
 * killed the server is sent again to the next generation (mutations carry idempotency keys, or are
 * refused harmlessly the second time); any other transport failure is retried a few times, then thrown.
 */
export async function gqlAcrossRestarts<T>(servers: ServerGenerations, token: string, query: string, variables?: Record<string, unknown>): Promise<GqlBody<T>> {
  let after = -1;
  for (let failures = 0; ; ) {
    const g = await servers.ready(after);
    try {
      const res = await fetch(g.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ query, variables }),
      });
      return (await res.json()) as GqlBody<T>;
    } catch (error) {
      if (g.dead) { after = g.n; continue; }
      if (++failures > 20) throw error;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

/**
 * A graphql-ws client that follows runs with `runEvents` subscriptions and, after each restart,
 * subscribes again from the last cursor it received. It counts every (run, cursor) it is sent.
 */
export class RunFollower {
  /** runId → cursor → times received. */
  readonly received = new Map<string, Map<string, number>>();
  readonly revisions = new Map<string, number[]>();
  readonly terminal = new Set<string>();
  resubscriptions = 0;
  errors: string[] = [];
  /** How each subscription ended, by generation (a killed server ends them all with an error). */
  readonly ends: string[] = [];
  private readonly last = new Map<string, string>();
  private readonly runs: string[] = [];
  private client?: { n: number; url: string; clients: Client[]; subscribed: Set<string> };

  constructor(private readonly token: string, private readonly terminalTypes: readonly string[]) {}

  /** Follows one more run (now, if a generation is connected; else at the next). */
  follow(runId: string): void {
    this.runs.push(runId);
    this.received.set(runId, new Map());
    this.revisions.set(runId, []);
    if (this.client) this.subscribe(runId);
  }

  /** A new generation is up: connect to it and resubscribe every followed run after its last cursor. */
  connect(g: { n: number; url: string }): void {
    for (const c of this.client?.clients ?? []) void c.dispose();
    this.client = { n: g.n, url: g.url, clients: [], subscribed: new Set() };
    for (const runId of this.runs) {
      if (this.last.has(runId)) this.resubscriptions++;
      this.subscribe(runId);
    }
  }

  /** The server allows a bounded number of operations per connection: a few runs per socket. */
  private clientFor(runId: string): Client {
    const c = this.client as NonNullable<RunFollower['client']>;
    const slot = Math.floor(this.runs.indexOf(runId) / RunFollower.PER_CONNECTION);
    while (c.clients.length <= slot) {
      c.clients.push(createClient({ url: c.url.replace(/^http/, 'ws'), webSocketImpl: WebSocket, lazy: true, retryAttempts: 0, connectionParams: { authorization: `Bearer ${this.token}` } }));
    }
    return c.clients[slot] as Client;
  }

  private static readonly PER_CONNECTION = 10;

  private subscribe(runId: string): void {
    const c = this.client;
    if (!c || c.subscribed.has(runId)) return;
    c.subscribed.add(runId);
    this.clientFor(runId).subscribe<{ runEvents: { cursor: string; revision: number; type: string } }>(
      { query: 'subscription($id: ID!, $after: String) { runEvents(runId: $id, after: $after) { cursor revision type } }', variables: this.last.has(runId) ? { id: runId, after: this.last.get(runId) } : { id: runId } },
      {
        next: (value) => {
          const e = value.data?.runEvents;
          if (!e) return void this.errors.push(JSON.stringify(value.errors));
          const seen = this.received.get(runId) as Map<string, number>;
          seen.set(e.cursor, (seen.get(e.cursor) ?? 0) + 1);
          this.revisions.get(runId)?.push(e.revision);
          this.last.set(runId, e.cursor);
          if (this.terminalTypes.includes(e.type)) this.terminal.add(runId);
        },
        // A killed server ends every subscription with an error: the next generation resubscribes.
        error: (error) => void this.ends.push(`g${c.n} ${runId} error ${error instanceof Error ? error.message : JSON.stringify(error)}`),
        complete: () => void this.ends.push(`g${c.n} ${runId} complete`),
      },
    );
  }

  async close(): Promise<void> {
    await Promise.all((this.client?.clients ?? []).map((c) => c.dispose()));
    this.client = undefined;
  }
}
