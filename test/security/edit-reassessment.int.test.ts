import { generateKeyPairSync, sign } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defaultApprovalPolicy } from '../../src/domain/approvals/policy-config.js';
import { contentHash, eventContentHash, GENESIS_HASH, keyIdOf, signedDecision, verifyPayloadSignature } from '../../src/domain/audit/chain.js';
import { verifyStream } from '../../src/domain/audit/verify.js';
import { IllegalStateError, ValidationError } from '../../src/domain/errors.js';
import type { RunState } from '../../src/domain/run/state.js';
import { defineTool } from '../../src/orchestrator/tools/tool.js';
import { demoTools } from '../../src/server/demo-tools.js';
import { bob, carol, type EngineHarness, engineHarness } from '../support/engine-harness.js';
import { tempDir } from '../support/temp.js';

/**
 * Attack family: approve with edits. An approver who may approve a small action edits it into a
 * bigger one (staging → production), or a quorum's later voter swaps the input the earlier voters
 * approved. The edit is assessed like a new request; stricter means refused; votes count per input.
 */
const ran: Array<Record<string, unknown>> = [];
const purge = defineTool({
  name: 'db.purge', description: 'deletes rows', domain: 'ops', idempotent: false, timeoutMs: 1_000,
  input: z.object({ table: z.string(), where: z.string() }),
  action: { category: 'db', operation: 'delete' },
  handler: (input) => { ran.push(input); return { ok: true }; },
});
const alice = { id: 'alice', role: 'developer' };
const ops = (id: string) => ({ id, role: 'devops_engineer' });
const terminal = (s: RunState) => ['SUCCEEDED', 'PARTIAL', 'FAILED', 'CANCELLED'].includes(s.status);

const keys = generateKeyPairSync('ed25519');
const publicKeyPem = keys.publicKey.export({ type: 'spki', format: 'pem' }).toString();
const signer = { publicKeyPem, keyId: keyIdOf(publicKeyPem), sign: (m: string) => sign(null, Buffer.from(m), keys.privateKey).toString('base64') };

let h: EngineHarness;
const tmp = tempDir();
afterEach(async () => { ran.length = 0; expect(h.errors).toEqual([]); await h.close(); });

async function start(runId: string, tool: string, input: Record<string, unknown>) {
  h = await engineHarness([...demoTools(tmp.dir, 0), purge], { approvalPolicy: defaultApprovalPolicy, signer });
  await h.engine.start();
  const state = await h.api.startRun({ runId, goal: runId, profile: 'technical', errorStrategy: 'FAIL_FAST', steps: [{ id: 's', tool, input, domain: 'ops' }] }, alice);
  const gate = state.steps[0]?.gate;
  if (!gate) throw new Error('no gate');
  return gate;
}

async function refusedWithNothingAppended(action: () => Promise<unknown>, kind: new (...a: never[]) => Error, message: RegExp) {
  const before = (await h.store.readAll()).length;
  const error = await action().then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(kind);
  expect((error as Error).message).toMatch(message);
  expect((await h.store.readAll()).length).toBe(before);
}

describe('approve with edits re-assesses the edited input', () => {
  it('a tech lead approving a QUICK staging deploy with {environment: production} is refused; the gate stays open', async () => {
    const gate = await start('prod', 'deploy.release', { environment: 'staging', version: '1.4' });
    expect(gate.request).toMatchObject({ reviewLevel: 'QUICK', risk: { level: 'medium' }, justificationRequired: false });
    await refusedWithNothingAppended(
      () => h.api.grantApproval({ approvalId: gate.approvalId, editedInput: { environment: 'production', version: '1.4' } }, bob),
      ValidationError,
      /stricter gate .*risk high \(rule deploy-production\) instead of medium.*a justification is required/,
    );
    // Not even with a justification: the edit is an action nobody requested.
    await refusedWithNothingAppended(
      () => h.api.grantApproval({ approvalId: gate.approvalId, justification: 'trust me', editedInput: { environment: 'production', version: '1.4' } }, bob),
      ValidationError, /stricter gate/,
    );
    expect((await h.api.getRun('prod')).steps[0]).toMatchObject({ status: 'AWAITING_APPROVAL', gate: { status: 'OPEN', approvers: [] } });
  });

  it('an edit that asks nothing stricter runs, and the signed decision covers the edited input', async () => {
    const gate = await start('safer', 'deploy.release', { environment: 'staging', version: '1.4' });
    const edited = { environment: 'dev', version: '1.4' };
    await h.api.grantApproval({ approvalId: gate.approvalId, editedInput: edited }, bob);
    await h.engine.waitFor('safer', terminal);
    const events = await h.store.readStream('run-safer');
    expect(events.find((e) => e.type === 'ToolCallStarted')?.data).toMatchObject({ input: edited });
    const at = events.findIndex((e) => e.type === 'ApprovalGranted');
    const granted = events[at];
    if (!granted) throw new Error('no grant');
    const meta = granted.metadata as unknown as Record<string, string>;
    const place = { previousHash: at > 0 ? String(events[at - 1]?.metadata.hash) : GENESIS_HASH, contentHash: eventContentHash(granted.type, granted.data, granted.metadata), keyId: String(meta.keyId), at: String(meta.signedAt) };
    const decision = signedDecision('ApprovalGranted', granted.data as Record<string, unknown>, contentHash(edited), String(meta.policyVersion), place);
    expect(verifyPayloadSignature(decision, String(meta.signature), signer.publicKeyPem)).toBe(true);
    const asRequested = { ...decision, inputHash: contentHash({ environment: 'staging', version: '1.4' }) };
    expect(verifyPayloadSignature(asRequested, String(meta.signature), signer.publicKeyPem)).toBe(false);
    expect(verifyStream(events, { publicKeyPem: signer.publicKeyPem })).toMatchObject({ ok: true });
  });

  it('an edit that fails the tool schema is refused before anything is decided', async () => {
    const gate = await start('schema', 'deploy.release', { environment: 'staging', version: '1.4' });
    await refusedWithNothingAppended(() => h.api.grantApproval({ approvalId: gate.approvalId, editedInput: { environment: 'moon', version: '1.4' } }, bob), ValidationError, /edited input does not fit deploy\.release: environment/);
  });
});

describe('a quorum counts votes per input (by hash)', () => {
  it('voter A approves X, voter B approves with edit Y: B does not complete a quorum for Y', async () => {
    const gate = await start('swap', 'db.purge', { table: 'users', where: 'id = 1' });
    expect(gate.request).toMatchObject({ requiredApprovals: 2, risk: { level: 'critical' } });
    await h.api.grantApproval({ approvalId: gate.approvalId, justification: 'one row' }, ops('dave'));
    const afterB = await h.api.grantApproval({ approvalId: gate.approvalId, justification: 'looks fine', editedInput: { table: 'users', where: '1 = 1' } }, ops('erin'));
    expect(afterB.steps[0]).toMatchObject({ status: 'AWAITING_APPROVAL', gate: { status: 'OPEN', approvers: ['dave', 'erin'] } });
    expect(ran).toEqual([]);
    // A third voter for X completes X's quorum, and X is what runs.
    await h.api.grantApproval({ approvalId: gate.approvalId, justification: 'one row, agreed' }, ops('finn'));
    await h.engine.waitFor('swap', terminal);
    expect(ran).toEqual([{ table: 'users', where: 'id = 1' }]);
    await refusedWithNothingAppended(() => h.api.grantApproval({ approvalId: gate.approvalId, justification: 'late' }, carol), IllegalStateError, /closed/);
  });

  it('voter A edits to Y, voter B approves as requested: no quorum for either; Y runs only when a quorum approved Y', async () => {
    const gate = await start('same', 'db.purge', { table: 'users', where: 'id = 1' });
    const y = { table: 'users', where: 'id = 1 and inactive' };
    await h.api.grantApproval({ approvalId: gate.approvalId, justification: 'narrower', editedInput: y }, ops('dave'));
    await h.api.grantApproval({ approvalId: gate.approvalId, justification: 'as requested' }, ops('erin'));
    expect((await h.api.getRun('same')).steps[0]?.gate?.status).toBe('OPEN');
    expect(ran).toEqual([]);
    // Key order does not make another input: the hash is over canonical JSON.
    await h.api.grantApproval({ approvalId: gate.approvalId, justification: 'narrower, agreed', editedInput: { where: y.where, table: y.table } }, ops('finn'));
    await h.engine.waitFor('same', terminal);
    expect(ran).toEqual([y]);
  });
});

describe('the pending-approvals read model counts votes with the same fold', () => {
  it('split votes (X and an edit Y) keep the request listed; an automated vote alone does not close a two-vote gate', async () => {
    const { ev, given } = await import('../support/projections-events.js');
    const { pendingApprovalQueries, pendingApprovalsProjection } = await import('../../src/projections/read-models/pending-approvals.js');
    const base = [ev.started('r1', 0), ev.plan('r1', [{ id: 's1', tool: 'db.purge' }], 0), ev.routed('r1', 's1', 'w1', 0), ev.requested('r1', 's1', 0, { requiredApprovals: 2, eligibleRoles: ['devops_engineer'] })];
    const erin = ev.granted('r1', 's1', ops('erin'), 20);
    const edit = { ...erin, data: { ...(erin.data as Record<string, unknown>), editedInput: { q: 2 } } };
    const split = await given(pendingApprovalsProjection, [...base, ev.granted('r1', 's1', ops('dave'), 10), edit]);
    expect(pendingApprovalQueries.get(split, 'r1/s1/1')).toMatchObject({ receivedApprovals: 2, approvers: ['dave', 'erin'] });
    const same = await given(pendingApprovalsProjection, [...base, ev.granted('r1', 's1', ops('dave'), 10), ev.granted('r1', 's1', ops('erin'), 20)]);
    expect(same.approvals.size).toBe(0);
    const bot = { runId: 'r1', at: 10, type: 'ApprovalAutoApproved', data: { approvalId: 'r1/s1/1', stepId: 's1', approver: 'yes-bot', rule: 'automated approver yes-bot' } } as const;
    const botOnly = await given(pendingApprovalsProjection, [...base, bot]);
    expect(pendingApprovalQueries.get(botOnly, 'r1/s1/1')).toMatchObject({ receivedApprovals: 1, approvers: ['approver:yes-bot'] });
  });
});
