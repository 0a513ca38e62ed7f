import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { loadOrCreateAuditSigner } from '../../src/adapters/audit/ed25519-keys.js';
import { eventHash, GENESIS_HASH } from '../../src/domain/audit/chain.js';
import { type ChainEvent, verifyStream } from '../../src/domain/audit/verify.js';
import { exportRun, verifyExport } from '../../src/orchestrator/audit-export.js';
import { defineTool } from '../../src/orchestrator/tools/tool.js';
import { alice, bob, engineHarness } from '../support/engine-harness.js';

// Attack family: an insider with write access to the store and to export files, without the
// private key, who makes the verifier accept something other than what the server wrote: content
// the hash does not see, a stream presented as another run, a tool call that ran with an input
// nobody granted, an unsealed tail that looks as proven as the rest.

const Any = z.record(z.string(), z.unknown());
const change = defineTool({
  name: 'ops.change', description: 'x', input: Any, domain: 'ops', action: { category: 'ops', operation: 'write' },
  idempotent: true, timeoutMs: 2_000, approval: { eligibleRoles: ['tech_lead'] },
  // A null in the output: what a forger could swap for a number JSON parses as Infinity.
  handler: () => ({ changed: true, warning: null }),
});

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A finished, sealed run `runId` with one gated step, granted by bob (with `editedInput` if given). */
async function sealedRun(runId = 'r', editedInput?: Record<string, unknown>) {
  const dir = mkdtempSync(join(tmpdir(), 'gh-sec-smuggle-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const signer = loadOrCreateAuditSigner({ dataDir: dir });
  const h = await engineHarness([change], { signer });
  cleanups.push(() => h.close());
  await h.api.startRun({ runId, goal: 'x', profile: 'technical', steps: [{ id: 'change', tool: 'ops.change', input: { target: 'staging-db' }, domain: 'ops' }] }, alice);
  const gate = (await h.engine.waitFor(runId, (s) => s.steps[0]?.status === 'AWAITING_APPROVAL')).steps[0]?.gate;
  await h.api.grantApproval({ approvalId: gate?.approvalId as string, justification: 'ok', ...(editedInput ? { editedInput } : {}) }, bob);
  await h.settled(runId);
  const events: ChainEvent[] = (await h.store.readStream(`run-${runId}`)).map((e) => ({ revision: e.revision, type: e.type, data: e.data, metadata: { ...e.metadata } as Record<string, unknown> }));
  const text = await exportRun(h.store, runId, { publicKeyPem: signer.publicKeyPem });
  return { events, text, publicKeyPem: signer.publicKeyPem, keyId: signer.keyId };
}

/** The stream re-hashed from the start, as a forger with write access would leave it. */
function rechain(events: readonly ChainEvent[]): ChainEvent[] {
  let previous = GENESIS_HASH;
  return events.map((e, revision) => {
    const hash = eventHash(previous, e.type, e.data, e.metadata);
    previous = hash;
    return { ...e, revision, metadata: { ...e.metadata, hash } };
  });
}

/** An export with line `type`'s JSON rewritten by `edit` (the other lines byte for byte as exported). */
function editLine(text: string, type: string, edit: (line: string) => string): string {
  const lines = text.trim().split('\n');
  const i = lines.findIndex((l, n) => n > 0 && (JSON.parse(l) as { type: string }).type === type);
  expect(i).toBeGreaterThan(0);
  lines[i] = edit(lines[i] as string);
  return `${lines.join('\n')}\n`;
}

const data = (events: readonly ChainEvent[], type: string) => events.find((e) => e.type === type)?.data as Record<string, unknown>;

describe('content the chain hash does not see', () => {
  it('a "__proto__" member added to a signed grant is refused: it was not there when the grant was signed', async () => {
    const { text, publicKeyPem } = await sealedRun();
    // JSON.parse makes "__proto__" an own member; a canonical form that copies it with `out[k] = v`
    // sets a prototype instead and drops it from the hash, so the grant would carry unsigned content.
    const smuggled = editLine(text, 'ApprovalGranted', (l) => l.replace(/"justification":"ok"/, '"justification":"ok","__proto__":{"justification":"approved by the CISO","editedInput":{"target":"prod-db"}}'));
    expect(smuggled).toContain('approved by the CISO');
    const report = verifyExport(smuggled, { publicKeys: [publicKeyPem] });
    expect(report.ok).toBe(false);
    expect(report.finding).toMatchObject({ kind: 'changed' });
  });

  it('a null rewritten as 1e400 (which JSON.parse reads as Infinity and JSON writes as null) is refused', async () => {
    const { text, publicKeyPem } = await sealedRun();
    const smuggled = editLine(text, 'ToolCallSucceeded', (l) => l.replace('"warning":null', '"warning":1e400'));
    expect(smuggled).toContain('1e400');
    const report = verifyExport(smuggled, { publicKeys: [publicKeyPem] });
    expect(report.ok).toBe(false);
    expect(report.finding).toMatchObject({ kind: 'changed', reason: expect.stringContaining('JSON') });
  });

  it('refused before: keys reordered, white space and CRLF line ends do not change what verifies (a true export stays true)', async () => {
    const { text, publicKeyPem } = await sealedRun();
    const crlf = `\r\n${text.replace(/\n/g, '\r\n\r\n')}`;
    expect(verifyExport(crlf, { publicKeys: [publicKeyPem] })).toMatchObject({ ok: true, sealed: true });
    const reordered = editLine(text, 'ApprovalGranted', (l) => {
      const o = JSON.parse(l) as { data: Record<string, unknown> };
      return JSON.stringify({ ...o, data: Object.fromEntries(Object.entries(o.data).reverse()) }, null, 1).replace(/\n/g, ' ');
    });
    expect(verifyExport(reordered, { publicKeys: [publicKeyPem] })).toMatchObject({ ok: true });
  });
});

describe('a stream presented as another run', () => {
  it("an export whose header names another run is refused (the events are run r's)", async () => {
    const { text, publicKeyPem } = await sealedRun('r');
    const [header, ...rest] = text.trim().split('\n');
    const relabelled = [JSON.stringify({ ...(JSON.parse(header as string) as object), runId: 'denied-run', streamId: 'run-denied-run' }), ...rest].join('\n');
    const report = verifyExport(relabelled, { publicKeys: [publicKeyPem] });
    expect(report.ok).toBe(false);
    expect(report.finding).toMatchObject({ kind: 'misplaced', reason: expect.stringContaining('denied-run') });
  });

  it('a header whose streamId does not match its runId is refused', async () => {
    const { text, publicKeyPem } = await sealedRun('r');
    const [header, ...rest] = text.trim().split('\n');
    const lying = [JSON.stringify({ ...(JSON.parse(header as string) as object), streamId: 'run-other' }), ...rest].join('\n');
    expect(verifyExport(lying, { publicKeys: [publicKeyPem] }).finding).toMatchObject({ kind: 'misplaced' });
  });

  it("a granted run's stream copied over another run's stream verifies as itself, not as the other run", async () => {
    const { events, publicKeyPem } = await sealedRun('approved-run');
    expect(verifyStream(events, { publicKeyPem, runId: 'approved-run' })).toMatchObject({ ok: true });
    const report = verifyStream(events, { publicKeyPem, runId: 'denied-run' });
    expect(report.ok).toBe(false);
    expect(report.finding).toMatchObject({ kind: 'misplaced', revision: 0, reason: expect.stringContaining('approved-run') });
  });

  it('refused before: a header that declares fewer events than the file holds', async () => {
    const { text, publicKeyPem } = await sealedRun('r');
    const [header, ...rest] = text.trim().split('\n');
    const h = JSON.parse(header as string) as { events: number };
    const lying = [JSON.stringify({ ...h, events: h.events - 1 }), ...rest].join('\n');
    expect(verifyExport(lying, { publicKeys: [publicKeyPem] }).finding).toMatchObject({ kind: 'removed' });
  });
});

describe('the grant covers the input the tool ran with', () => {
  /** The run cut just after its tool call started (an unfinished run: no seal), then `edit`ed and re-hashed. */
  function runningTail(events: readonly ChainEvent[], edit: (e: ChainEvent) => ChainEvent): ChainEvent[] {
    const started = events.findIndex((e) => e.type === 'ToolCallStarted');
    return rechain(events.slice(0, started + 1).map((e) => (e.type === 'ToolCallStarted' ? edit(e) : e)));
  }

  it('a ToolCallStarted whose input differs from the granted input is refused, sealed or not', async () => {
    const { events, publicKeyPem } = await sealedRun();
    const swap = (e: ChainEvent) => ({ ...e, data: { ...(e.data as object), input: { target: 'prod-db' } } });
    // The cut-off run, untouched, verifies when unsealed runs are allowed: the baseline.
    expect(verifyStream(runningTail(events, (e) => e), { publicKeyPem, allowUnsealed: true })).toMatchObject({ ok: true });
    const report = verifyStream(runningTail(events, swap), { publicKeyPem, allowUnsealed: true });
    expect(report.ok).toBe(false);
    expect(report.finding).toMatchObject({ kind: 'ungranted', reason: expect.stringContaining('input') });
  });

  it('an edited grant: the tool must run with the edited input, not the one first requested', async () => {
    const { events, publicKeyPem } = await sealedRun('edited', { target: 'canary-db' });
    expect(data(events, 'ToolCallStarted').input).toEqual({ target: 'canary-db' });
    expect(verifyStream(events, { publicKeyPem })).toMatchObject({ ok: true });
    const reverted = (e: ChainEvent) => ({ ...e, data: { ...(e.data as object), input: { target: 'staging-db' } } });
    expect(verifyStream(runningTail(events, reverted), { publicKeyPem, allowUnsealed: true }).finding).toMatchObject({ kind: 'ungranted' });
  });

  it("refused before: a grant's editedInput changed after signing does not verify", async () => {
    const { events, publicKeyPem } = await sealedRun('edited', { target: 'canary-db' });
    const forged = rechain(events.map((e) => (e.type === 'ApprovalGranted' ? { ...e, data: { ...(e.data as object), editedInput: { target: 'prod-db' } } } : e)));
    expect(verifyStream(forged, { publicKeyPem }).finding).toMatchObject({ kind: 'bad_signature' });
  });
});

describe('an unsealed stream accepted with allowUnsealed says what is not proven', () => {
  it('the report counts the events after the last signature: nothing vouches for them', async () => {
    const { events, publicKeyPem } = await sealedRun();
    const started = events.findIndex((e) => e.type === 'ToolCallStarted');
    const granted = events.findIndex((e) => e.type === 'ApprovalGranted');
    const report = verifyStream(events.slice(0, started + 1), { publicKeyPem, allowUnsealed: true });
    expect(report).toMatchObject({ ok: true, sealed: false, unsignedTail: started - granted });
    expect(verifyStream(events, { publicKeyPem })).toMatchObject({ ok: true, sealed: true, unsignedTail: 0 });
  });

  it('a finished run must end in a seal even when unsealed streams are allowed: a stripped seal or an event after it is refused', async () => {
    const { events, publicKeyPem } = await sealedRun();
    const last = events[events.length - 1] as ChainEvent;
    const { seal: _seal, ...unsealedMeta } = last.metadata;
    const stripped = rechain([...events.slice(0, -1), { ...last, metadata: unsealedMeta }]);
    expect(verifyStream(stripped, { publicKeyPem, allowUnsealed: true }).finding).toMatchObject({ kind: 'unsealed', reason: expect.stringContaining('SUCCEEDED') });
    const warning = { revision: events.length, type: 'BudgetWarning', data: { scope: { kind: 'total' }, used: 1, limit: 2, percent: 50 }, metadata: { correlationId: 'r', actor: 'system:engine', schemaVersion: 1 } };
    const appended = rechain([...events, warning]);
    expect(verifyStream(appended, { publicKeyPem, allowUnsealed: true }).finding).toMatchObject({ kind: 'unsealed' });
  });

  it('an empty fingerprint pins nothing, even when the header key cannot be read', async () => {
    const { text } = await sealedRun();
    const [header, ...rest] = text.trim().split('\n');
    const garbled = [JSON.stringify({ ...(JSON.parse(header as string) as object), publicKey: 'not a key' }), ...rest].join('\n');
    expect(verifyExport(garbled, { fingerprints: [''] })).toMatchObject({ signaturesVerified: false });
  });

  it('refused before: a fingerprint pin is matched whole, never by prefix', async () => {
    const { text, keyId } = await sealedRun();
    expect(verifyExport(text, { fingerprints: [keyId.slice(0, 16)] })).toMatchObject({ signaturesVerified: false });
    expect(verifyExport(text, { fingerprints: [`sha256:${keyId.toUpperCase()}`] })).toMatchObject({ ok: true, signaturesVerified: true });
  });
});
