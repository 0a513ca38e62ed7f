import Database from 'better-sqlite3';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyExport } from '../../src/orchestrator/audit-export.js';
import { type ServerHarness, startServer, TOKENS } from '../support/server-harness.js';
import { tempDir } from '../support/temp.js';

const START = `mutation($input: StartRunInput!) { startRun(input: $input) { runId steps { id approvalId } } }`;
const VERIFY = `query($id: ID!) { auditVerification(runId: $id) { runId ok events signaturesChecked signaturesVerified sealed unsignedTail finding { revision kind reason } } }`;
const EXPORT = `query($id: ID!) { auditExport(runId: $id) }`;
const KEY = `{ auditPublicKey }`;

/**
 * The console's audit panel reads these: the server checks a run's chain with its own key, and
 * exports the stream as `gatehouse audit export` does (the export verifies offline with that key).
 */
describe('GraphQL over real HTTP: auditVerification and auditExport', () => {
  let s: ServerHarness;
  const tmp = tempDir('gatehouse-audit-q-');
  const dataDir = join(tmp.dir, 'data');
  beforeAll(async () => { s = await startServer({ env: { dataDir } }); });
  afterAll(async () => { await s?.close(); tmp.remove(); });

  async function start(steps: unknown[]): Promise<{ runId: string; approvalId: string | null }> {
    const r = await s.gql<{ startRun: { runId: string; steps: Array<{ approvalId: string | null }> } }>(TOKENS.developer, START, { input: { goal: 'audit', profile: 'enterprise', steps } });
    expect(r.body.errors, JSON.stringify(r.body.errors)).toBeUndefined();
    return { runId: r.body.data!.startRun.runId, approvalId: r.body.data!.startRun.steps[0]!.approvalId };
  }
  async function finished(runId: string): Promise<void> {
    await expect.poll(async () => (await s.app.services.orchestrator.getRun(runId)).status, { timeout: 10_000 }).toBe('SUCCEEDED');
  }
  const verify = async (token: string, runId: string) => s.gql<{ auditVerification: Record<string, unknown> }>(token, VERIFY, { id: runId });

  it('a finished run: chain intact, signatures checked with the server key, sealed', async () => {
    const { runId, approvalId } = await start([{ id: 'ship', tool: 'deploy.release', domain: 'deploys', input: { environment: 'staging', version: '1.0' } }]);
    expect(approvalId).toBeTruthy();
    const granted = await s.gql(TOKENS.tech_lead, `mutation($id: ID!) { approve(input: { approvalId: $id, justification: \"ok\" }) { approval { status } } }`, { id: approvalId });
    expect(granted.body.errors).toBeUndefined();
    await finished(runId);
    const events = (await s.app.store.readStream(`run-${runId}`)).length;
    // a viewer sees the chain status too: it holds no payload
    const r = await verify(TOKENS.viewer, runId);
    expect(r.body.errors).toBeUndefined();
    expect(r.body.data!.auditVerification).toEqual({ runId, ok: true, events, signaturesChecked: 2, signaturesVerified: true, sealed: true, unsignedTail: 0, finding: null });
  });

  it('a run waiting at its gate: intact, not sealed yet, and how many events no signature covers', async () => {
    const { runId } = await start([{ id: 'ship', tool: 'deploy.release', domain: 'deploys', input: { environment: 'staging', version: '2.0' } }]);
    await expect.poll(async () => (await s.app.services.orchestrator.getRun(runId)).steps[0]?.status).toBe('AWAITING_APPROVAL');
    const r = (await verify(TOKENS.developer, runId)).body.data!.auditVerification;
    expect(r).toMatchObject({ ok: true, sealed: false, signaturesVerified: true, finding: null });
    expect(r.unsignedTail).toBeGreaterThan(0);
  });

  it('a changed event in the store: not ok, the first broken link named by revision', async () => {
    const { runId } = await start([{ id: 'look', tool: 'file.read', domain: 'files', input: { path: 'release-notes.md' } }]);
    await finished(runId);
    const db = new Database(join(dataDir, 'gatehouse.sqlite'));
    try {
      db.prepare("UPDATE events SET data = json_set(data, '$.goal', 'something else') WHERE stream_id = ? AND revision = 0").run(`run-${runId}`);
    } finally {
      db.close();
    }
    const r = (await verify(TOKENS.developer, runId)).body.data!.auditVerification;
    expect(r).toMatchObject({ ok: false, finding: { revision: 0, kind: 'changed', reason: 'RunStarted at revision 0 differs from what was written' } });
  });

  it('the export is the CLI\'s JSON Lines: it verifies offline with the server\'s key; viewers are refused it', async () => {
    const { runId } = await start([{ id: 'look', tool: 'file.read', domain: 'files', input: { path: 'release-notes.md' } }]);
    await finished(runId);
    const text = (await s.gql<{ auditExport: string }>(TOKENS.developer, EXPORT, { id: runId })).body.data!.auditExport;
    const key = (await s.gql<{ auditPublicKey: string }>(TOKENS.developer, KEY)).body.data!.auditPublicKey;
    const lines = text.trim().split('\n');
    expect(JSON.parse(lines[0]!)).toMatchObject({ format: 'gatehouse-audit/1', runId, publicKey: key, events: lines.length - 1 });
    expect(verifyExport(text, { publicKeys: [key] })).toMatchObject({ ok: true, sealed: true, signaturesVerified: true });
    const viewer = await s.gql(TOKENS.viewer, EXPORT, { id: runId });
    expect(viewer.body.errors?.[0]?.extensions?.code).toBe('UNAUTHORIZED');
    expect(viewer.body.data).toBeNull();
  });

  it('bad input: a malformed run id is BAD_USER_INPUT, an unknown run NOT_FOUND (as `run` answers), and nothing is appended', async () => {
    const before = await s.eventCount();
    for (const query of [VERIFY, EXPORT]) {
      const malformed = await s.gql(TOKENS.developer, query, { id: 'no such/run' });
      expect(malformed.body.errors?.[0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT' } });
      expect(malformed.body.errors?.[0]?.message).toMatch(/run ids use letters/);
      const unknown = await s.gql(TOKENS.developer, query, { id: 'nope' });
      expect(unknown.body.errors?.[0]).toMatchObject({ extensions: { code: 'NOT_FOUND' } });
      expect(unknown.body.errors?.[0]?.message).toMatch(/no run nope/);
    }
    expect(await s.eventCount()).toBe(before);
  });
});
