import { generateKeyPairSync } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { loadOrCreateAuditSigner, readPinnedKeys } from '../../src/adapters/audit/ed25519-keys.js';
import { createSqliteEventStore } from '../../src/adapters/eventstore/sqlite/sqlite-event-store.js';
import { keyIdOf } from '../../src/domain/audit/chain.js';
import type { AuditSigner } from '../../src/domain/ports/audit-signer.js';
import { Orchestrator } from '../../src/orchestrator/api.js';
import { exportRun, verifyExport } from '../../src/orchestrator/audit-export.js';
import { RunEngine } from '../../src/orchestrator/engine.js';
import { defineTool, ToolRegistry } from '../../src/orchestrator/tools/tool.js';
import { forgeExport as forge } from '../support/audit-forger.js';
import { alice, bob } from '../support/engine-harness.js';
import { tempDir } from '../support/temp.js';

// Attack family: a forged export. The forger holds the file (and maybe the store) but not the
// server's private key: they change what a decision says, re-hash the chain and re-sign every
// signature and seal with a key of their own, and put their public key in the header.

const Any = z.record(z.string(), z.unknown());
const tools = new ToolRegistry([
  defineTool({
    name: 'ops.change', description: 'x', input: Any, domain: 'ops', action: { category: 'ops', operation: 'write' }, idempotent: true, timeoutMs: 2_000,
    approval: { eligibleRoles: ['tech_lead'] }, handler: () => ({ changed: true }),
  }),
]);

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function keyDir(): string {
  const t = tempDir('gh-sec-key-');
  cleanups.push(t.remove);
  return t.dir;
}

function sqliteStore() {
  const t = tempDir('gh-sec-store-');
  const store = createSqliteEventStore({ path: join(t.dir, 'events.sqlite') });
  cleanups.push(t.remove, () => store.close());
  return store;
}

/** Starts a gated run on `store` with an engine signing with `signer`, grants it with `grantWith` (default the same). */
async function run(store: ReturnType<typeof sqliteStore>, runId: string, signer: AuditSigner, grantWith: AuditSigner = signer): Promise<void> {
  const engine = (s: AuditSigner) => new RunEngine({ store, tools, signer: s, onError: (e) => { throw e; } });
  let e = engine(signer);
  await new Orchestrator({ engine: e, tools }).startRun({ runId, goal: 'x', profile: 'technical', steps: [{ id: 'change', tool: 'ops.change', input: { target: 'prod' }, domain: 'ops' }] }, alice);
  const gate = (await e.waitFor(runId, (s) => s.steps[0]?.status === 'AWAITING_APPROVAL')).steps[0]?.gate;
  if (grantWith !== signer) {
    // The key is rotated while the run waits: the engine restarts with the new key.
    await e.close();
    e = engine(grantWith);
    await e.start();
  }
  await new Orchestrator({ engine: e, tools }).grantApproval({ approvalId: gate?.approvalId as string, justification: 'ok' }, bob);
  await e.waitFor(runId, (s) => s.status === 'SUCCEEDED');
  await e.close();
}

describe('a forged export, re-hashed and re-signed with the attacker key', () => {
  it('verifies against the attacker key (the forgery is internally perfect) but is refused with the pinned key', async () => {
    const server = loadOrCreateAuditSigner({ dataDir: keyDir() });
    const attacker = loadOrCreateAuditSigner({ dataDir: keyDir() });
    const store = sqliteStore();
    await run(store, 'f', server);
    const text = await exportRun(store, 'f', { publicKeyPem: server.publicKeyPem });
    const forged = forge(text, attacker);
    expect(forged).toContain('approved by the CISO');
    // The forgery is consistent: with the attacker's key pinned it verifies. That is why the header's key is never used.
    expect(verifyExport(forged, { publicKeys: [attacker.publicKeyPem] })).toMatchObject({ ok: true, signaturesVerified: true });
    // No pin: nothing is signature-checked, and the report says so.
    expect(verifyExport(forged)).toMatchObject({ signaturesVerified: false, signaturesChecked: 0 });
    // Pinned to the server key (or its fingerprint): refused.
    expect(verifyExport(forged, { publicKeys: [server.publicKeyPem] }).finding).toMatchObject({ kind: 'unknown_key' });
    expect(verifyExport(forged, { fingerprints: [server.keyId] })).toMatchObject({ signaturesVerified: false });
    // Claiming the server's key id does not help: the signatures are not by that key.
    const claimed = forge(text, attacker, { claimKeyId: server.keyId });
    expect(verifyExport(claimed, { publicKeys: [server.publicKeyPem] }).finding).toMatchObject({ kind: 'bad_signature' });
    // The genuine export verifies with the pinned key.
    expect(verifyExport(text, { publicKeys: [server.publicKeyPem] })).toMatchObject({ ok: true, signaturesVerified: true, sealed: true });
  });
});

describe('key handling: a configured key, key ids, rotation', () => {
  it('GATEHOUSE_AUDIT_KEY as PEM or as a file gives every instance the same key and key id', () => {
    const { privateKey } = generateKeyPairSync('ed25519');
    const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const dir = keyDir();
    writeFileSync(join(dir, 'shared.pem'), pem);
    const a = loadOrCreateAuditSigner({ dataDir: keyDir(), key: pem });
    const b = loadOrCreateAuditSigner({ dataDir: keyDir(), key: join(dir, 'shared.pem') });
    expect(a.keyId).toBe(b.keyId);
    expect(a.keyId).toBe(keyIdOf(a.publicKeyPem));
    expect(a.created).toBe(false);
    expect(() => loadOrCreateAuditSigner({ dataDir: keyDir(), key: join(dir, 'missing.pem') })).toThrow(/missing\.pem: ENOENT/);
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    expect(() => loadOrCreateAuditSigner({ dataDir: keyDir(), key: rsa })).toThrow(/Ed25519/);
    // A private key is never accepted as a pinned key (it would be a secret in a verifier's hands).
    expect(() => readPinnedKeys([pem])).toThrow(/private key/);
    expect(readPinnedKeys([`${a.publicKeyPem}\n${loadOrCreateAuditSigner({ dataDir: keyDir() }).publicKeyPem}`])).toHaveLength(2);
  });

  it('after rotation, old exports verify with the old public key, new ones with the new, a run across it with both', async () => {
    const oldKey = loadOrCreateAuditSigner({ dataDir: keyDir() });
    const newKey = loadOrCreateAuditSigner({ dataDir: keyDir() });
    const store = sqliteStore();
    await run(store, 'before', oldKey);
    await run(store, 'across', oldKey, newKey);
    await run(store, 'after', newKey);
    const both = { publicKeys: [oldKey.publicKeyPem, newKey.publicKeyPem] };
    const exp = async (id: string) => exportRun(store, id, { publicKeyPem: newKey.publicKeyPem });
    expect(verifyExport(await exp('before'), { publicKeys: [oldKey.publicKeyPem] })).toMatchObject({ ok: true, signaturesVerified: true });
    expect(verifyExport(await exp('before'), { publicKeys: [newKey.publicKeyPem] }).finding).toMatchObject({ kind: 'unknown_key' });
    expect(verifyExport(await exp('after'), { publicKeys: [newKey.publicKeyPem] })).toMatchObject({ ok: true });
    expect(verifyExport(await exp('across'), both)).toMatchObject({ ok: true, signaturesChecked: 2 });
    expect(verifyExport(await exp('across'), { publicKeys: [oldKey.publicKeyPem] }).finding).toMatchObject({ kind: 'unknown_key' });
    const across = (await store.readStream('run-across')).filter((e) => e.metadata.keyId).map((e) => [e.type, e.metadata.keyId === newKey.keyId ? 'new' : 'old']);
    expect(across).toEqual([['ApprovalGranted', 'new'], ['RunCompleted', 'new']]);
  });
});
