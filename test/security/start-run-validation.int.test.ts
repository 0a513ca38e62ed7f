import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ServerHarness, startServer, TOKENS } from '../support/server-harness.js';

/**
 * Attack family: a plan the gate cannot judge. A step naming a tool nobody registered, or an input
 * its tool would reject, used to be recorded and fail later (or worse, be assessed on an input the
 * tool never accepts). It is refused at startRun, naming the step and field, with nothing appended.
 */
const START = `mutation($input: StartRunInput!) { startRun(input: $input) { runId steps { id status } } }`;
type Err = { message: string; extensions?: { code?: string } };

describe('startRun refuses what no gate can judge', () => {
  let s: ServerHarness;
  beforeAll(async () => { s = await startServer(); });
  afterAll(async () => { await s?.close(); });

  async function refused(steps: unknown[]): Promise<Err> {
    const before = await s.app.store.headPosition();
    const count = await s.eventCount();
    const r = await s.gql(TOKENS.developer, START, { input: { goal: 'x', profile: 'technical', steps } });
    expect(r.body.data?.startRun ?? null).toBeNull();
    expect(await s.app.store.headPosition()).toEqual(before);
    expect(await s.eventCount()).toBe(count);
    return r.body.errors?.[0] as Err;
  }

  it('an unknown tool: BAD_USER_INPUT naming the step and the tool', async () => {
    const e = await refused([{ id: 'ok', tool: 'file.read', domain: 'files', input: { path: 'release-notes.md' } }, { id: 'ghost', tool: 'rm.rf', domain: 'x', input: {} }]);
    expect(e.extensions?.code).toBe('BAD_USER_INPUT');
    expect(e.message).toBe('step ghost: unknown tool "rm.rf"');
  });

  it('an input that fails the tool schema: BAD_USER_INPUT naming the step and the field', async () => {
    const e = await refused([{ id: 'ship', tool: 'deploy.release', domain: 'deploys', input: { environment: 'moon', version: '1.0' } }]);
    expect(e.extensions?.code).toBe('BAD_USER_INPUT');
    expect(e.message).toMatch(/^step ship: input does not fit deploy\.release: input\.environment: /);
    const missing = await refused([{ id: 'q', tool: 'db.execute', domain: 'databases', input: { database: 'main' } }]);
    expect(missing.message).toMatch(/^step q: input does not fit db\.execute: input\.statement: /);
  });

  it('a playbook whose parameters make a bad input is refused the same way', async () => {
    const before = await s.eventCount();
    const r = await s.gql(TOKENS.developer, START, { input: { goal: 'x', profile: 'technical', playbook: { name: 'release', params: { environment: 'mars', version: '1' } } } });
    expect(r.body.errors?.[0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT' }, message: expect.stringMatching(/^step deploy: .*input\.environment/) });
    expect(await s.eventCount()).toBe(before);
  });

  it('a secret reference stands in for a value checked at execution time, not refused here', async () => {
    const ok = await s.gql<{ startRun: { runId: string } }>(TOKENS.developer, START, {
      input: { goal: 'x', profile: 'technical', steps: [{ id: 'r', tool: 'file.read', domain: 'files', input: { path: { $secret: 'NOTES_PATH' } } }] },
    });
    expect(ok.body.errors).toBeUndefined();
  });
});
