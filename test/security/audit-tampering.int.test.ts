import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { loadOrCreateAuditSigner } from '../../src/adapters/audit/ed25519-keys.js';
import { eventHash, GENESIS_HASH } from '../../src/domain/audit/chain.js';
import { type ChainEvent, verifyStream } from '../../src/domain/audit/verify.js';
import { defaultApprovalPolicy } from '../../src/domain/approvals/policy-config.js';
import { defineTool } from '../../src/orchestrator/tools/tool.js';
import { alice, bob, carol, engineHarness } from '../support/engine-harness.js';

// Attack family: someone with write access to the store (not to the audit key) rewrites a run's
// stream and recomputes every hash after the change, so the chain alone looks intact. Each case
// verifies with the pinned public key: what gives the rewrite away is the signatures and the seal.

const Any = z.record(z.string(), z.unknown());
const gated = (required: number) =>
  defineTool({
    name: `ops.change${required}`, description: 'x', input: Any, domain: 'ops', action: { category: 'ops', operation: 'write' },
    idempotent: true, timeoutMs: 2_000, approval: { eligibleRoles: ['tech_lead', 'devops_engineer'], requiredApprovals: required },
    handler: () => ({ changed: true }),
  });
const read = defineTool({ name: 'ops.read', description: 'x', input: Any, domain: 'ops', action: { category: 'ops', operation: 'read' }, idempotent: true, timeoutMs: 2_000, handler: () => ({ text: 'hi' }) });

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function newSigner() {
  const dir = mkdtempSync(join(tmpdir(), 'gh-sec-keys-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return loadOrCreateAuditSigner({ dataDir: dir });
}

async function signedRun(required = 1, grants = required, signer = newSigner()) {
  const h = await engineHarness([read, gated(required)], { signer });
  cleanups.push(() => h.close());
  await h.api.startRun({ runId: 'r', goal: 'x', profile: 'technical', steps: [
    { id: 'look', tool: 'ops.read', input: {}, domain: 'ops' },
    { id: 'change', tool: `ops.change${required}`, input: { target: 'prod-db' }, domain: 'ops', dependsOn: ['look'] },
  ] }, alice);
  const gate = (await h.engine.waitFor('r', (s) => s.steps[1]?.status === 'AWAITING_APPROVAL')).steps[1]?.gate;
  for (const by of [bob, carol].slice(0, grants)) await h.api.grantApproval({ approvalId: gate?.approvalId as string, justification: 'ok' }, by);
  if (grants >= required) await h.settled('r');
  const events: ChainEvent[] = (await h.store.readStream('run-r')).map((e) => ({ revision: e.revision, type: e.type, data: e.data, metadata: { ...e.metadata } as Record<string, unknown> }));
  return { events, publicKeyPem: signer.publicKeyPem };
}

/** The stream renumbered and re-hashed from the start, as a forger with write access would leave it. */
function rechain(events: readonly ChainEvent[]): ChainEvent[] {
  let previous = GENESIS_HASH;
  return events.map((e, revision) => {
    const hash = eventHash(previous, e.type, e.data, e.metadata);
    previous = hash;
    return { ...e, revision, metadata: { ...e.metadata, hash } };
  });
}

describe('a rewritten store with every hash recomputed', () => {
  it('the untouched run verifies (the baseline the attacks start from)', async () => {
    const { events, publicKeyPem } = await signedRun();
    expect(verifyStream(events, { publicKeyPem })).toMatchObject({ ok: true });
  });

  it('a deleted signed grant is detected: the tool call it allowed is no longer backed', async () => {
    const { events, publicKeyPem } = await signedRun();
    const forged = rechain(events.filter((e) => e.type !== 'ApprovalGranted'));
    const report = verifyStream(forged, { publicKeyPem });
    expect(report.ok).toBe(false);
    expect(report.finding).toMatchObject({ kind: 'ungranted', reason: expect.stringContaining('step change') });
  });

  it('a truncated stream (the end cut off, chain intact) is detected: it ends without a seal', async () => {
    const { events, publicKeyPem } = await signedRun();
    const cut = events.slice(0, events.findIndex((e) => e.type === 'ToolCallSucceeded' && (e.data as { stepId: string }).stepId === 'change'));
    const report = verifyStream(cut, { publicKeyPem });
    expect(report.ok).toBe(false);
    expect(report.finding).toMatchObject({ kind: 'unsealed' });
  });

  it('an unsigned event removed from the middle is detected by the seal (and the signatures after it)', async () => {
    const { events, publicKeyPem } = await signedRun();
    const i = events.findIndex((e) => e.type === 'StepRouted');
    const forged = rechain([...events.slice(0, i), ...events.slice(i + 1)]);
    const report = verifyStream(forged, { publicKeyPem });
    expect(report.ok).toBe(false);
    expect(report.finding?.kind).toBe('bad_signature');
  });

  it('the terminal event with its seal moved to a shortened stream does not verify: the seal names the length and head', async () => {
    const { events, publicKeyPem } = await signedRun();
    const last = events[events.length - 1] as ChainEvent;
    const shortened = rechain([...events.slice(0, events.length - 3), last]);
    const report = verifyStream(shortened, { publicKeyPem });
    expect(report.ok).toBe(false);
    expect(report.finding).toMatchObject({ kind: 'bad_signature', revision: shortened.length - 1 });
  });

  it('a replayed decision: a valid grant copied to reach a quorum of two does not verify at its new place', async () => {
    // Two approvals are needed; bob gave one. The forger appends a copy of bob's signed grant.
    const { events, publicKeyPem } = await signedRun(2, 1);
    const grant = events.find((e) => e.type === 'ApprovalGranted') as ChainEvent;
    const forged = rechain([...events, { ...grant, revision: events.length }]);
    const report = verifyStream(forged, { publicKeyPem, allowUnsealed: true });
    expect(report.ok).toBe(false);
    expect(report.finding).toMatchObject({ kind: 'bad_signature', revision: events.length });
  });

  it('a decision signature copied from another run does not verify', async () => {
    const signer = newSigner(); // one key signs both: the copy is a genuine signature by it
    const a = await signedRun(1, 1, signer);
    const b = await signedRun(1, 1, signer);
    const grantA = a.events.find((e) => e.type === 'ApprovalGranted') as ChainEvent;
    const forged = rechain(b.events.map((e) => (e.type === 'ApprovalGranted' ? { ...e, metadata: { ...e.metadata, signature: grantA.metadata.signature } } : e)));
    // Both runs have the same id and the same decision: only the chain place tells them apart.
    expect(grantA.data).toEqual(b.events.find((e) => e.type === 'ApprovalGranted')?.data);
    const report = verifyStream(forged, { publicKeyPem: b.publicKeyPem });
    expect(report.ok).toBe(false);
    expect(report.finding?.kind).toBe('bad_signature');
  });

  it('an auto-approval whose rule was blanked out no longer backs the tool call it allowed', async () => {
    const filesRead = defineTool({ name: 'files.read', description: 'x', input: Any, domain: 'ops', action: { category: 'files', operation: 'read' }, idempotent: true, timeoutMs: 2_000, handler: () => ({ text: 'hi' }) });
    const signer = newSigner();
    const h = await engineHarness([filesRead], { signer, approvalPolicy: defaultApprovalPolicy });
    cleanups.push(() => h.close());
    await h.api.startRun({ runId: 'auto', goal: 'x', profile: 'technical', steps: [{ id: 'r', tool: 'files.read', input: { path: '/etc/motd' }, domain: 'ops' }] }, alice);
    await h.settled('auto');
    const events: ChainEvent[] = (await h.store.readStream('run-auto')).map((e) => ({ revision: e.revision, type: e.type, data: e.data, metadata: { ...e.metadata } as Record<string, unknown> }));
    expect(events.map((e) => e.type)).toContain('ApprovalAutoApproved');
    expect(verifyStream(events, { publicKeyPem: signer.publicKeyPem })).toMatchObject({ ok: true });
    const forged = rechain(events.map((e) => (e.type === 'ApprovalAutoApproved' ? { ...e, data: { ...(e.data as object), rule: '' } } : e)));
    expect(verifyStream(forged, { publicKeyPem: signer.publicKeyPem }).finding).toMatchObject({ kind: 'ungranted', reason: expect.stringContaining('names no rule') });
  });
});
