import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createEsdbEventStore } from '../../src/adapters/eventstore/esdb/esdb-event-store.js';
import type { EventStore } from '../../src/domain/ports/event-store.js';
import { repoRoot } from '../support/built.js';
import { type EsdbDouble, startEsdbDouble } from '../support/esdb-double/server.js';
import { type Child, spawnFixture } from '../support/processes.js';
import { tempDir } from '../support/temp.js';

/**
 * A built server on the EventStoreDB double while the double answers UNAVAILABLE for a moment
 * (a gRPC blip at start: the cluster e2e once saw a starting child die of the client's
 * UnavailableError). A short blip is waited out; one longer than the retry budget ends the start
 * with a clear message and exit code 1. Either way nothing is appended twice or half.
 */
const FIXTURE = 'test/fixtures/server-with-test-tools.ts';
const ALICE = 'alice-token-0000000001';
const START = 'mutation($i: StartRunInput!) { startRun(input: $i) { runId } }';

let cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

/** A double whose next `calls` calls (any method) are answered UNAVAILABLE; `more(n)` adds a blip later. */
async function blippingDouble(calls: number): Promise<{ double: EsdbDouble; refused: () => number; more: (n: number) => void }> {
  let left = calls;
  let refused = 0;
  const double = await startEsdbDouble({
    unavailable: () => {
      if (left <= 0) return false;
      left--;
      refused++;
      return true;
    },
  });
  return { double, refused: () => refused, more: (n) => void (left += n) };
}

function startServer(double: EsdbDouble): { child: Child; invocations: string } {
  const tmp = tempDir('gatehouse-blip-');
  const invocations = join(tmp.dir, 'invocations.log');
  const child = spawnFixture(FIXTURE, [invocations], {
    PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'warn', GATEHOUSE_DATA_DIR: join(tmp.dir, 'data'), GATEHOUSE_EVENTSTORE: double.connectionString,
    GATEHOUSE_CONFIG: join(repoRoot, 'test/fixtures/server-faults.yaml'),
  });
  cleanup.push(() => {
    if (child.process.exitCode === null && child.process.signalCode === null) child.process.kill('SIGKILL');
    tmp.remove();
  });
  return { child, invocations };
}

const userRecords = (double: EsdbDouble) => double.log.all.filter((r) => !r.type.startsWith('$') && !r.streamId.startsWith('$'));

describe('EventStoreDB unavailable for a moment at start', () => {
  it('a blip of the first 12 calls: the server comes up, a run started through another blip ends once, and it stops cleanly', async () => {
    const { double, refused, more } = await blippingDouble(12);
    const reader: EventStore = createEsdbEventStore({ connectionString: double.connectionString });
    cleanup.push(async () => { await reader.close(); double.close(); });
    const { child, invocations } = startServer(double);
    const ready = await child.waitForLine(/gatehouse ready on/, 90_000);
    expect(refused()).toBe(12);
    const url = `http://127.0.0.1:${/:(\d+)\/graphql/.exec(ready)?.[1]}/graphql`;

    more(4);
    const plan = { goal: 'after a blip', profile: 'technical', errorStrategy: 'RETRY', idempotencyKey: 'blip-1', steps: [{ id: 'fetch', tool: 'fault.fetch', input: { n: 1 }, domain: 'ops' }] };
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${ALICE}` }, body: JSON.stringify({ query: START, variables: { i: plan } }) });
    const body = (await res.json()) as { data?: { startRun: { runId: string } }; errors?: unknown };
    expect(body.errors).toBeUndefined();
    const runId = body.data?.startRun.runId as string;

    // The run ends: followed in the log itself, not on a clock.
    const sub = reader.subscribeToStream(`run-${runId}`);
    const types: string[] = [];
    for await (const e of sub) {
      types.push(e.type);
      if (e.type === 'RunCompleted' || e.type === 'RunFailed') break;
    }
    await sub.close();
    expect(types.at(-1)).toBe('RunCompleted');
    const stream = await reader.readStream(`run-${runId}`);
    expect(stream.map((e) => e.revision)).toEqual(stream.map((_, i) => i));
    expect(stream.filter((e) => e.type === 'RunStarted')).toHaveLength(1);
    expect(stream.filter((e) => e.type === 'ToolCallSucceeded')).toHaveLength(1);
    expect(readFileSync(invocations, 'utf8').split('\n').filter((l) => l.startsWith('invoke fault.fetch'))).toHaveLength(1);

    child.process.kill('SIGTERM');
    expect(await child.exited).toEqual({ code: 0, signal: null });
    expect(child.stderr.join('')).not.toMatch(/Unhandled|uncaught/i);
  }, 180_000);

  it('unavailable past the retry budget: the start ends with exit code 1 and a message naming the store, and nothing is appended', async () => {
    const { double } = await blippingDouble(Number.MAX_SAFE_INTEGER);
    cleanup.push(() => double.close());
    const before = userRecords(double).length;
    const { child } = startServer(double);
    const exit = await child.exited;
    expect(exit).toEqual({ code: 1, signal: null });
    const stderr = child.stderr.join('');
    expect(stderr).toMatch(/gatehouse: cannot start: event store esdb:\/\/127\.0\.0\.1:\d+\?tls=false unavailable after \d+ attempts in [\d.]+ s: 14 UNAVAILABLE/);
    expect(stderr).not.toMatch(/Unhandled|uncaught|\n\s+at /i);
    expect(userRecords(double).length).toBe(before);
  }, 180_000);
});
