import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ServerHarness, collect, startServer, TOKENS, until } from '../support/server-harness.js';

const START = `mutation($input: StartRunInput!) { startRun(input: $input) { runId steps { approvalId } } }`;
// One query text; what it shows depends on a variable. The server may keep the parsed and
// validated document for the next subscription with the same text, never its variables.
const EVENTS = `subscription($id: ID!, $after: String, $withType: Boolean!) { runEvents(runId: $id, after: $after) { revision type @include(if: $withType) } }`;
type Ev = { runEvents: { revision: number; type?: string } };

describe('graphql-ws documents reused across subscriptions', () => {
  let s: ServerHarness;
  beforeAll(async () => { s = await startServer({ demoDelayMs: 20 }); });
  afterAll(async () => { await s?.close(); });

  it('the same query text with different variables: each subscriber gets the shape its own variables ask for, live events included', async () => {
    const started = await s.gql<{ startRun: { runId: string; steps: Array<{ approvalId: string }> } }>(TOKENS.developer, START, {
      input: { goal: 'shapes', profile: 'enterprise', steps: [{ id: 'd', tool: 'deploy.release', domain: 'deploys', input: { environment: 'staging', version: '3' } }] },
    });
    const runId = started.body.data!.startRun.runId;
    const stream = await s.app.store.readStream(`run-${runId}`);
    // From the second-newest event: each subscriber's first item proves it is subscribed before the run moves on.
    const after = Buffer.from(`ev:${runId}:${stream.length - 2}`).toString('base64url');
    const done = (items: Ev[]) => items.some((i) => i.runEvents.type === 'RunCompleted') || items.length > stream.length + 20;
    // Same role, same query text: the subscriptions whose results may be shared.
    const withType = collect<Ev>(s.ws(TOKENS.developer), EVENTS, { id: runId, after, withType: true }, done, 20_000);
    const without = collect<Ev>(s.ws(TOKENS.developer2), EVENTS, { id: runId, after, withType: false }, (items) => items.length >= 5 && withType.items.some((i) => i.runEvents.type === 'RunCompleted') && items.length >= withType.items.length, 20_000);
    await until(() => withType.items.length >= 1 && without.items.length >= 1);
    const ok = await s.gql(TOKENS.tech_lead, `mutation($id: ID!) { approve(input: { approvalId: $id }) { approval { status } } }`, { id: started.body.data!.startRun.steps[0]!.approvalId });
    expect(ok.body.errors).toBeUndefined();
    const [a, b] = await Promise.all([withType.done, without.done]);
    expect(withType.errors).toEqual([]);
    expect(without.errors).toEqual([]);
    expect(a.length).toBeGreaterThan(2);
    expect(b.map((i) => i.runEvents.revision)).toEqual(a.map((i) => i.runEvents.revision));
    expect(a.every((i) => typeof i.runEvents.type === 'string')).toBe(true);
    expect(b.every((i) => !('type' in i.runEvents))).toBe(true);
  });
});
