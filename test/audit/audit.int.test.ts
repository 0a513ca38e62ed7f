import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { loadOrCreateAuditSigner } from '../../src/adapters/audit/ed25519-keys.js';
import { createEsdbEventStore } from '../../src/adapters/eventstore/esdb/esdb-event-store.js';
import { createMemoryEventStore } from '../../src/adapters/eventstore/memory/memory-event-store.js';
import { createSqliteEventStore } from '../../src/adapters/eventstore/sqlite/sqlite-event-store.js';
import { eventHash, GENESIS_HASH } from '../../src/domain/audit/chain.js';
import { verifyStream } from '../../src/domain/audit/verify.js';
import { defaultApprovalPolicy } from '../../src/domain/approvals/policy-config.js';
import type { EventStore } from '../../src/domain/ports/event-store.js';
import { Orchestrator } from '../../src/orchestrator/api.js';
import { exportRun, verifyExport } from '../../src/orchestrator/audit-export.js';
import { RunEngine } from '../../src/orchestrator/engine.js';
import { defineTool, ToolRegistry } from '../../src/orchestrator/tools/tool.js';
import { startEsdbDouble } from '../support/esdb-double/server.js';
import { metadataAsRead, storedHash } from '../support/stored-metadata.js';

const Any = z.record(z.string(), z.unknown());
const tools = new ToolRegistry([
  defineTool({ name: 'files.read', description: 'x', input: Any, domain: 'ops', action: { category: 'files', operation: 'read' }, idempotent: true, timeoutMs: 1_000, handler: () => ({ text: 'hello' }) }),
  defineTool({ name: 'files.write', description: 'x', input: Any, domain: 'ops', action: { category: 'files', operation: 'write' }, idempotent: true, timeoutMs: 1_000, handler: () => ({ written: true }) }),
]);
const alice = { id: 'alice', role: 'developer' };
const bob = { id: 'bob', role: 'tech_lead' };

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function keys() {
  const dir = mkdtempSync(join(tmpdir(), 'gh-keys-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return loadOrCreateAuditSigner({ dataDir: dir });
}

/** Drives one run with an AUTO step and a human-approved step on `store`; returns its id. */
async function auditedRun(store: EventStore, signer: ReturnType<typeof keys>, runId = 'aud'): Promise<void> {
  const engine = new RunEngine({ store, tools, approvalPolicy: defaultApprovalPolicy, signer, onError: (e) => { throw e; } });
  const api = new Orchestrator({ engine, tools });
  const s = await api.startRun({ runId, goal: 'audit me', profile: 'technical', steps: [{ id: 'read', tool: 'files.read', input: { path: '/etc/motd' }, domain: 'ops' }, { id: 'write', tool: 'files.write', input: { path: '/tmp/x' }, domain: 'ops', dependsOn: ['read'] }] }, alice);
  const gate = (await engine.waitFor(runId, (x) => x.steps[1]?.status === 'AWAITING_APPROVAL')).steps[1]?.gate;
  await api.grantApproval({ approvalId: gate?.approvalId as string, justification: 'looks fine' }, bob);
  await engine.waitFor(runId, (x) => x.status === 'SUCCEEDED');
  expect(s.runId).toBe(runId);
  await engine.close();
}

const asChain = async (store: EventStore, runId = 'aud') => (await store.readStream(`run-${runId}`)).map((e) => ({ revision: e.revision, type: e.type, data: e.data, metadata: e.metadata as unknown as Record<string, unknown> }));

describe('the hash chain on every store adapter', () => {
  it.each(['memory', 'sqlite', 'esdb'] as const)('an untouched stream verifies, signatures included (%s)', async (kind) => {
    let store: EventStore;
    if (kind === 'memory') store = createMemoryEventStore();
    else if (kind === 'sqlite') {
      const dir = mkdtempSync(join(tmpdir(), 'gh-audit-'));
      store = createSqliteEventStore({ path: join(dir, 'e.sqlite') });
      cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    } else {
      const double = await startEsdbDouble();
      store = createEsdbEventStore({ connectionString: double.connectionString });
      cleanups.push(() => double.close());
    }
    cleanups.push(() => store.close());
    const signer = keys();
    await auditedRun(store, signer);
    const events = await asChain(store);
    expect(events.every((e) => typeof e.metadata.hash === 'string')).toBe(true);
    const report = verifyStream(events, { publicKeyPem: signer.publicKeyPem });
    expect(report).toEqual({ ok: true, events: events.length, signaturesChecked: 3, signaturesVerified: true, sealed: true, unsignedTail: 0 });
    expect(events.filter((e) => e.metadata.signature).map((e) => e.type)).toEqual(['ApprovalAutoApproved', 'ApprovalGranted']);
    expect(events.filter((e) => e.metadata.seal).map((e) => e.type)).toEqual(['RunCompleted']);
    expect(events.filter((e) => e.metadata.keyId).every((e) => e.metadata.keyId === signer.keyId)).toBe(true);
  });
});

describe('tampering with the SQLite file is found and named', () => {
  async function prepared() {
    const dir = mkdtempSync(join(tmpdir(), 'gh-tamper-'));
    const path = join(dir, 'events.sqlite');
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const signer = keys();
    const store = createSqliteEventStore({ path });
    await auditedRun(store, signer);
    await store.close();
    const verify = async () => {
      const s = createSqliteEventStore({ path });
      try {
        return verifyStream(await asChain(s), { publicKeyPem: signer.publicKeyPem });
      } finally {
        await s.close();
      }
    };
    const raw = () => {
      const db = new Database(path);
      cleanups.push(() => { if (db.open) db.close(); });
      return db;
    };
    return { verify, raw, signer };
  }

  it('a changed event', async () => {
    const t = await prepared();
    const db = t.raw();
    db.prepare("UPDATE events SET data = json_set(data, '$.goal', 'something else') WHERE stream_id = 'run-aud' AND revision = 0").run();
    db.close();
    expect((await t.verify()).finding).toEqual({ revision: 0, kind: 'changed', reason: 'RunStarted at revision 0 differs from what was written' });
  });

  it('a removed event', async () => {
    const t = await prepared();
    const db = t.raw();
    db.prepare("DELETE FROM events WHERE stream_id = 'run-aud' AND revision = 4").run();
    db.close();
    expect((await t.verify()).finding).toMatchObject({ revision: 4, kind: 'removed' });
  });

  it('an inserted event (later revisions shifted up to make room)', async () => {
    const t = await prepared();
    const db = t.raw();
    const n = db.prepare("SELECT count(*) FROM events WHERE stream_id = 'run-aud'").pluck().get() as number;
    for (let r = n - 1; r >= 3; r--) db.prepare("UPDATE events SET revision = revision + 1 WHERE stream_id = 'run-aud' AND revision = ?").run(r);
    const forged = { stepId: 'read', reason: 'forged', becauseOf: 'read' };
    db.prepare("INSERT INTO events (stream_id, revision, event_id, type, data, metadata, recorded_at) VALUES ('run-aud', 3, 'f0f0f0f0-0000-4000-8000-000000000000', 'StepSkipped', ?, ?, 0)")
      .run(JSON.stringify(forged), JSON.stringify({ correlationId: 'aud', actor: 'user:mallory', schemaVersion: 1, hash: 'b'.repeat(64) }));
    db.close();
    expect((await t.verify()).finding).toMatchObject({ revision: 3, kind: 'inserted' });
  });

  it('two events swapped', async () => {
    const t = await prepared();
    const db = t.raw();
    const rows = db.prepare("SELECT position, type, data, metadata FROM events WHERE stream_id = 'run-aud' AND revision IN (5, 6) ORDER BY revision").all() as Array<{ position: number; type: string; data: string; metadata: string }>;
    const [a, b] = rows as [(typeof rows)[0], (typeof rows)[0]];
    const swap = db.prepare('UPDATE events SET type = ?, data = ?, metadata = ? WHERE position = ?');
    swap.run(b.type, b.data, b.metadata, a.position);
    swap.run(a.type, a.data, a.metadata, b.position);
    db.close();
    expect((await t.verify()).finding).toMatchObject({ revision: 5, kind: 'reordered' });
  });

  it('an approval whose justification was rewritten, with every hash after it recomputed: the signature gives it away', async () => {
    const t = await prepared();
    const db = t.raw();
    const rows = db.prepare("SELECT position, revision, type, data, metadata FROM events WHERE stream_id = 'run-aud' ORDER BY revision").all() as Array<{ position: number; revision: number; type: string; data: string; metadata: string }>;
    let previous = GENESIS_HASH;
    for (const row of rows) {
      const data = JSON.parse(row.data) as Record<string, unknown>;
      const metadata = JSON.parse(row.metadata) as Record<string, unknown>;
      if (row.type === 'ApprovalGranted') data.justification = 'the CEO said so';
      // An attacker who knows the file format: the hash covers the metadata as read, with what the
      // row leaves out put back (the run's id as correlationId, schemaVersion 1, the engine's actor),
      // and is stored as base64url.
      previous = eventHash(previous, row.type, data, { ...metadataAsRead('run-aud', metadata), hash: undefined });
      metadata.hash = storedHash(previous);
      db.prepare('UPDATE events SET data = ?, metadata = ? WHERE position = ?').run(JSON.stringify(data), JSON.stringify(metadata), row.position);
    }
    db.close();
    const report = await t.verify();
    expect(report.finding).toMatchObject({ kind: 'bad_signature', reason: expect.stringContaining('granted by bob') });
    expect(rows[report.finding?.revision as number]?.type).toBe('ApprovalGranted');
  });
});

describe('export', () => {
  it('writes JSON Lines that verify offline; a changed line is found', async () => {
    const store = createMemoryEventStore();
    cleanups.push(() => store.close());
    const signer = keys();
    await auditedRun(store, signer, 'exp');
    const text = await exportRun(store, 'exp', { publicKeyPem: signer.publicKeyPem });
    const lines = text.trim().split('\n');
    expect(JSON.parse(lines[0] as string)).toMatchObject({ format: 'gatehouse-audit/1', runId: 'exp', events: lines.length - 1, publicKey: signer.publicKeyPem });
    const pinned = { publicKeys: [signer.publicKeyPem] };
    expect(verifyExport(text, pinned)).toMatchObject({ ok: true, runId: 'exp', events: lines.length - 1, signaturesChecked: 3, signaturesVerified: true, sealed: true });
    // The header's key is a hint: without a pinned key or fingerprint nothing is signature-checked.
    expect(verifyExport(text)).toMatchObject({ ok: true, signaturesChecked: 0, signaturesVerified: false });
    expect(verifyExport(text, { fingerprints: [signer.keyId] })).toMatchObject({ ok: true, signaturesChecked: 3, signaturesVerified: true });
    const tampered = text.replace('"looks fine"', '"looks great"');
    expect(verifyExport(tampered, pinned).finding).toMatchObject({ kind: 'changed' });
    const truncated = lines.slice(0, -1).join('\n');
    expect(verifyExport(truncated, pinned).finding).toMatchObject({ kind: 'unsealed' });
    const withoutLine = [lines[0], ...lines.slice(1, -2), lines[lines.length - 1]].join('\n');
    expect(verifyExport(withoutLine, pinned).finding).toMatchObject({ kind: 'removed' });
    expect(() => verifyExport('{"not":"an export"}')).toThrow(/line 1/);
  });
});
