import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineTool } from '../../src/orchestrator/tools/tool.js';
import { type ServerHarness, startServer, TOKENS } from '../support/server-harness.js';

// Attack family: a secret hidden one level down under a sensitive key, where a flat check does not
// look (`{credentials: {user, pass}}`, `{token: {value}}`), in a run's input and in a tool's output.
const LEAKS = {
  inputUser: 'in-user-7f3a91',
  inputPass: 'in-pass-5c2e88',
  inputToken: 'in-token-value-9d41',
  listToken: 'in-list-token-0b7c',
  outputUser: 'out-user-61ad02',
  outputPass: 'out-pass-e4b377',
  outputToken: 'out-token-value-2f90',
};

const leakyOutput = defineTool({
  name: 'test.leaky', description: 'answers with nested credentials', input: z.object({}).loose(), domain: 'test',
  // A read: auto-approved by the fixture policy, so the run finishes without a human.
  action: { category: 'test', operation: 'read' }, idempotent: true, timeoutMs: 2_000,
  handler: () => ({
    credentials: { user: LEAKS.outputUser, pass: LEAKS.outputPass },
    token: { value: LEAKS.outputToken, expires: 3600 },
    note: 'kept',
  }),
});

const START = `mutation($input: StartRunInput!) { startRun(input: $input) { runId status } }`;
const start = (input: Record<string, unknown>) => ({ goal: 'leak', profile: 'technical', steps: [{ id: 's', tool: 'test.leaky', domain: 'test', input }] });

/** Every byte of every file under `dir` (SQLite files, WAL, read models, keys), as one string. */
function allBytes(dir: string): string {
  return readdirSync(dir).map((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? allBytes(p) : readFileSync(p).toString('latin1');
  }).join('\n');
}

describe('secrets nested under sensitive keys never reach the data folder', () => {
  let s: ServerHarness;
  beforeAll(async () => { s = await startServer({ tools: [leakyOutput] }); });
  afterAll(async () => { await s?.close(); });

  it.each([
    ['an object under credentials', { credentials: { user: LEAKS.inputUser, pass: LEAKS.inputPass } }, ['steps[0].input.credentials.user', 'credentials.pass']],
    ['an object under token', { token: { value: LEAKS.inputToken } }, ['token.value']],
    ['a literal beside a reference in a list under tokens', { tokens: [{ $secret: 'A' }, LEAKS.listToken] }, ['tokens[1]']],
  ])('a run input with %s is refused at the API, naming the path, and nothing is appended', async (_what, input, paths) => {
    const before = await s.eventCount();
    const r = await s.gql(TOKENS.developer, START, { input: start(input) });
    expect(r.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    for (const p of paths) expect(r.body.errors?.[0]?.message).toContain(p.replace('steps[0].input.', ''));
    expect(r.body.errors?.[0]?.message).toContain('$secret');
    expect(await s.eventCount()).toBe(before);
  });

  it('a tool output with nested credentials is stored redacted, shape kept', async () => {
    const r = await s.gql<{ startRun: { runId: string } }>(TOKENS.developer, START, { input: start({ plain: 'x' }) });
    expect(r.body.errors).toBeUndefined();
    const runId = r.body.data!.startRun.runId;
    let succeeded: { output: unknown } | undefined;
    for (let i = 0; i < 500 && succeeded === undefined; i++) {
      const events = await s.app.store.readStream(`run-${runId}`);
      succeeded = events.find((e) => e.type === 'ToolCallSucceeded')?.data as { output: unknown } | undefined;
      if (succeeded === undefined) await new Promise((res) => setTimeout(res, 20));
    }
    expect(succeeded?.output).toEqual({ credentials: { user: '[REDACTED]', pass: '[REDACTED]' }, token: { value: '[REDACTED]', expires: '[REDACTED]' }, note: 'kept' });
  });

  it('after the attacks, no byte of the data folder holds any of the secrets', async () => {
    // Stop first so every page, WAL frame and read-model write is on disk.
    const dir = dirname(s.app.adminToken!.path);
    await s.app.stop();
    const bytes = allBytes(dir);
    expect(bytes.length).toBeGreaterThan(0);
    for (const secret of Object.values(LEAKS)) expect(bytes, secret).not.toContain(secret);
  });
});
