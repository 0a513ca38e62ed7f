import { type Child, spawnFixture } from './processes.js';
import type { GqlBody } from './server-generations.js';

/** One Gatehouse server process of a cluster: its own data folder, the shared store. */
export interface Instance {
  readonly index: number;
  child?: Child;
  url?: string;
  pid?: number;
  alive: boolean;
  /** Every pid it ran as (a restart is a new process). */
  readonly pids: number[];
}

/**
 * N built server processes on one event store, started, killed and restarted by index. Clients
 * pick a live instance at random (or avoid one) and, when the one they asked is killed under
 * them, ask another: they wait on the cluster, never on a clock.
 */
export class ServerCluster {
  readonly instances: Instance[];

  constructor(private readonly fixture: string, private readonly args: string[], private readonly envOf: (index: number) => NodeJS.ProcessEnv, n: number) {
    this.instances = Array.from({ length: n }, (_, index) => ({ index, alive: false, pids: [] }));
  }

  /** Starts (or restarts) instance `i` and waits for its ready line. */
  async start(i: number): Promise<Instance> {
    const inst = this.instances[i] as Instance;
    const child = spawnFixture(this.fixture, this.args, this.envOf(i));
    const ready = await child.waitForLine(/gatehouse ready on/, 60_000);
    inst.child = child;
    inst.url = `http://127.0.0.1:${/:(\d+)\/graphql/.exec(ready)?.[1]}/graphql`;
    inst.pid = child.process.pid;
    inst.pids.push(child.process.pid as number);
    inst.alive = true;
    return inst;
  }

  /** SIGKILL: the instance dies with whatever it was doing. */
  async kill(i: number): Promise<void> {
    const inst = this.instances[i] as Instance;
    inst.alive = false;
    inst.child?.process.kill('SIGKILL');
    await inst.child?.exited;
  }

  /** SIGTERM: the graceful stop; resolves with how the process ended. */
  async stop(i: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    const inst = this.instances[i] as Instance;
    inst.alive = false;
    inst.child?.process.kill('SIGTERM');
    return (await inst.child?.exited) ?? { code: null, signal: null };
  }

  /** A live instance: `prefer` if it is live, else a random one other than `avoid` (when there is another). */
  pick(prefer?: number, avoid?: number): Instance {
    const live = this.instances.filter((x) => x.alive);
    if (live.length === 0) throw new Error('no instance is alive');
    const preferred = prefer === undefined ? undefined : live.find((x) => x.index === prefer);
    if (preferred) return preferred;
    const others = live.filter((x) => x.index !== avoid);
    const from = others.length > 0 ? others : live;
    return from[Math.floor(Math.random() * from.length)] as Instance;
  }

  /**
   * POST a GraphQL request to a live instance (see `pick`); a request that failed because its
   * instance was killed is sent to another one (mutations carry idempotency keys, or are refused
   * harmlessly the second time). Returns the body and the instance that answered.
   */
  async gql<T>(token: string, query: string, variables?: Record<string, unknown>, route: { prefer?: number; avoid?: number } = {}): Promise<GqlBody<T> & { by: number; onAvoided: boolean }> {
    for (let failures = 0; ; ) {
      const inst = this.pick(route.prefer, route.avoid);
      // `pick` returns the avoided instance only when no other was live at that moment: said here,
      // because whether one is live again by the time the answer comes is another question.
      const onAvoided = route.avoid !== undefined && inst.index === route.avoid;
      try {
        const res = await fetch(inst.url as string, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify({ query, variables }) });
        return { ...((await res.json()) as GqlBody<T>), by: inst.index, onAvoided };
      } catch (error) {
        if (!inst.alive) continue;
        if (++failures > 20) throw error;
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  }

  /** Ends whatever still runs (test cleanup). */
  killAll(): void {
    for (const inst of this.instances) if (inst.child && inst.child.process.exitCode === null && inst.child.process.signalCode === null) inst.child.process.kill('SIGKILL');
  }
}
