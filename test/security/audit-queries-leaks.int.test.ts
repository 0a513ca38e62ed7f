import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineTool } from '../../src/orchestrator/tools/tool.js';
import { type ServerHarness, startServer, TOKENS } from '../support/server-harness.js';

// Attack family: the console's new audit queries as a way around runEvents' narrowing. A viewer
// (no payloads), another developer (same payload rights as runEvents gives), and anyone probing ids.
const SECRETS = { user: 'audit-leak-user-3b7e', pass: 'audit-leak-pass-91c4', token: 'audit-leak-token-55d0' };

const leaky = defineTool({
  name: 'test.leaky', description: 'answers with nested credentials', input: z.object({}).loose(), domain: 'test',
  action: { category: 'test', operation: 'read' }, idempotent: true, timeoutMs: 2_000,
  handler: () => ({ credentials: { user: SECRETS.user, pass: SECRETS.pass }, token: { value: SECRETS.token }, note: 'kept' }),
});

const START = `mutation($input: StartRunInput!) { startRun(input: $input) { runId } }`;
const EXPORT = `query($id: ID!) { auditExport(runId: $id) }`;
const VERIFY = `query($id: ID!) { auditVerification(runId: $id) { runId ok events } }`;
const RUN = `query($id: ID!) { run(runId: $id) { runId } }`;
const EVENTS = `query($id: ID!) { runEvents(runId: $id, first: 100) { edges { node { revision type data } } } }`;

describe('auditExport and auditVerification give nobody more than runEvents does', () => {
  let s: ServerHarness;
  let runId: string;
  beforeAll(async () => {
    s = await startServer({ tools: [leaky] });
    const r = await s.gql<{ startRun: { runId: string } }>(TOKENS.developer, START, { input: { goal: 'leak', profile: 'technical', steps: [{ id: 's', tool: 'test.leaky', domain: 'test', input: {} }] } });
    expect(r.body.errors, JSON.stringify(r.body.errors)).toBeUndefined();
    runId = r.body.data!.startRun.runId;
    for (let i = 0; (await s.app.services.orchestrator.getRun(runId)).status !== 'SUCCEEDED'; i++) {
      if (i > 200) throw new Error('the run did not finish');
      await new Promise((resolve) => setTimeout(resolve, 50)); // polling a condition, not timing it
    }
  });
  afterAll(async () => { await s?.close(); });

  it('a viewer gets no export (no payloads), only the chain status', async () => {
    const r = await s.gql<{ auditExport: string }>(TOKENS.viewer, EXPORT, { id: runId });
    expect(r.body.errors?.[0]?.extensions?.code).toBe('UNAUTHORIZED');
    expect(r.body.data ?? null).toBeNull();
    const v = await s.gql<{ auditVerification: { ok: boolean } }>(TOKENS.viewer, VERIFY, { id: runId });
    expect(v.body.data?.auditVerification.ok).toBe(true);
  });

  it('another developer\'s export holds exactly the event data runEvents gives them, and no secret the tool returned', async () => {
    const exported = (await s.gql<{ auditExport: string }>(TOKENS.developer2, EXPORT, { id: runId })).body.data!.auditExport;
    for (const secret of Object.values(SECRETS)) expect(exported).not.toContain(secret);
    expect(exported).toContain('kept');
    const lines = exported.trim().split('\n').slice(1).map((l) => JSON.parse(l) as { revision: number; type: string; data: unknown; metadata: Record<string, unknown> });
    const events = (await s.gql<{ runEvents: { edges: Array<{ node: { revision: number; type: string; data: unknown } }> } }>(TOKENS.developer2, EVENTS, { id: runId })).body.data!.runEvents.edges.map((e) => e.node);
    expect(lines.map(({ revision, type, data }) => ({ revision, type, data }))).toEqual(events);
    // the metadata is the audit chain's, nothing about who holds which token
    for (const line of lines) expect(Object.keys(line.metadata).every((k) => ['correlationId', 'causationId', 'actor', 'schemaVersion', 'hash', 'signature', 'seal', 'keyId', 'signedAt', 'policyVersion', 'instance'].includes(k))).toBe(true);
  });

  it('an unknown run id answers as `run` and runEvents do (NOT_FOUND), so the audit queries are no separate probe; a malformed id is BAD_USER_INPUT; nothing is appended', async () => {
    const before = await s.eventCount();
    const code = async (query: string, id: string) => (await s.gql(TOKENS.developer2, query, { id })).body.errors?.[0]?.extensions?.code;
    for (const query of [RUN, EVENTS, VERIFY, EXPORT]) {
      expect([query.slice(0, 30), await code(query, 'no-such-run')]).toEqual([query.slice(0, 30), 'NOT_FOUND']);
      expect([query.slice(0, 30), await code(query, 'x'.repeat(5_000))]).toEqual([query.slice(0, 30), 'BAD_USER_INPUT']);
    }
    expect(await s.eventCount()).toBe(before);
  });
});
