import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineTool } from '../../src/orchestrator/tools/tool.js';
import { type ServerHarness, startServer, TOKENS } from '../support/server-harness.js';
import { tempDir } from '../support/temp.js';

const releases: Array<() => void> = [];
const hold = defineTool({
  name: 'test.hold', description: 'holds its call open until released', input: z.object({}).loose(), domain: 'test',
  action: { category: 'test', operation: 'read' }, idempotent: true, timeoutMs: 60_000,
  handler: () => new Promise((resolve) => releases.push(() => resolve({ ok: true }))),
});

const tmp = tempDir('gatehouse-workers-');
let a: ServerHarness;
let b: ServerHarness;
beforeAll(async () => {
  const eventStore = `sqlite://${join(tmp.dir, 'events.sqlite')}`;
  a = await startServer({ eventStore, tools: [hold], env: { instanceId: 'a' } });
  b = await startServer({ eventStore, tools: [hold], env: { instanceId: 'b' } });
});
afterAll(async () => {
  for (const r of releases.splice(0)) r();
  await a?.close();
  await b?.close();
  tmp.remove();
});

type Workers = { workers: { edges: Array<{ node: { name: string; inFlight: number; instances: Array<{ instance: string | null; inFlight: number }> } }> } };
const WORKERS = '{ workers { edges { node { name inFlight instances { instance inFlight } } } } }';

async function workersOn(s: ServerHarness) {
  const r = await s.gql<Workers>(TOKENS.viewer, WORKERS);
  expect(r.body.errors).toBeUndefined();
  return r.body.data!.workers.edges.map((e) => e.node);
}

async function eventually<T>(read: () => Promise<T>, holds: (v: T) => boolean, ms = 10_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await read();
    if (holds(v) || Date.now() > end) return v;
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('workers: live load per instance, read from the log', () => {
  it('instance B lists the calls in flight on instance A, per worker and instance, and drops them when they end', async () => {
    const started = await a.gql<{ startRun: { runId: string } }>(TOKENS.developer, `mutation($input: StartRunInput!) { startRun(input: $input) { runId } }`, {
      input: { goal: 'hold', profile: 'technical', steps: [{ id: 'h', tool: 'test.hold', domain: 'test', input: {} }] },
    });
    expect(started.body.errors).toBeUndefined();
    const busy = await eventually(() => workersOn(b), (ws) => ws.some((w) => w.inFlight > 0));
    expect(busy).toEqual([{ name: 'local', inFlight: 1, instances: [{ instance: 'a', inFlight: 1 }] }]);

    for (const r of releases.splice(0)) r();
    const idle = await eventually(() => workersOn(b), (ws) => ws.every((w) => w.inFlight === 0));
    expect(idle).toEqual([{ name: 'local', inFlight: 0, instances: [] }]);
  });
});
