import { generateKeyPairSync, randomUUID, sign } from 'node:crypto';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createSqliteEventStore } from '../../src/adapters/eventstore/sqlite/sqlite-event-store.js';
import { GENESIS_HASH, keyIdOf } from '../../src/domain/audit/chain.js';
import { verifyStream } from '../../src/domain/audit/verify.js';
import { CorruptEventError } from '../../src/domain/errors.js';
import type { EventStore } from '../../src/domain/ports/event-store.js';
import { TERMINAL_RUN } from '../../src/domain/run/state.js';
import { Orchestrator } from '../../src/orchestrator/api.js';
import { RunEngine } from '../../src/orchestrator/engine.js';
import { defineTool, ToolRegistry } from '../../src/orchestrator/tools/tool.js';
import { tempDir } from '../support/temp.js';

// What a row stores of an event's metadata (bytes per run, issue #16): the engine's own actor is
// left out and the chain hash is written as base64url; reading puts both back as they were hashed.

const noop = defineTool({ name: 'noop', description: 'x', input: z.object({ n: z.number() }), domain: 'bench', action: { category: 'read', operation: 'read' }, idempotent: true, timeoutMs: 5_000, handler: (i) => ({ n: i.n }) });
const tools = new ToolRegistry([noop]);
const { privateKey, publicKey } = generateKeyPairSync('ed25519');
const publicKeyPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
const signer = { publicKeyPem, keyId: keyIdOf(publicKeyPem), sign: (p: string) => sign(null, Buffer.from(p), privateKey).toString('base64') };
const steps = Array.from({ length: 5 }, (_, i) => ({ id: `s${i}`, tool: 'noop', input: { n: i }, domain: 'bench', dependsOn: i === 0 ? [] : [`s${i - 1}`] }));

interface Row { position: number; revision: number; type: string; data: string; metadata: string }

describe('stored metadata: what a row leaves out is put back on read', () => {
  let tmp: ReturnType<typeof tempDir>;
  let path: string;
  let store: EventStore;
  beforeEach(() => {
    tmp = tempDir();
    path = join(tmp.dir, 'events.sqlite');
    store = createSqliteEventStore({ path });
  });
  afterEach(async () => {
    await store.close();
    tmp.remove();
  });

  async function run(): Promise<string> {
    const engine = new RunEngine({ store, tools, signer, onError: (e) => { throw e; } });
    const api = new Orchestrator({ engine, tools });
    const runId = randomUUID();
    await api.startRun({ runId, goal: 'bench', profile: 'technical', steps }, { id: 'bench', role: 'developer' });
    await engine.waitFor(runId, (s) => TERMINAL_RUN.has(s.status));
    await engine.close();
    return runId;
  }
  const rows = (runId: string): Row[] => {
    const db = new Database(path, { readonly: true });
    try {
      return db.prepare('SELECT position, revision, type, data, metadata FROM events WHERE stream_id = ? ORDER BY revision').all(`run-${runId}`) as Row[];
    } finally {
      db.close();
    }
  };

  it("a 5-step run (the engine bench's run, UUID id) stores at most 4 KiB of data and metadata", async () => {
    const runId = await run();
    const stored = rows(runId);
    expect(stored).toHaveLength(19);
    const bytes = stored.reduce((sum, r) => sum + Buffer.byteLength(r.data) + Buffer.byteLength(r.metadata), 0);
    expect(bytes).toBeLessThanOrEqual(4096);
  });

  it("rows leave out the engine's actor and write the hash in base64url; reads give the hashed metadata back, and it verifies", async () => {
    const runId = await run();
    const stored = rows(runId);
    const read = await store.readStream(`run-${runId}`);
    for (const [i, row] of stored.entries()) {
      const meta = JSON.parse(row.metadata) as Record<string, unknown>;
      const back = read[i]?.metadata as Record<string, unknown>;
      expect(meta.hash).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(Buffer.from(meta.hash as string, 'base64url').toString('hex')).toBe(back.hash);
      if (back.actor === 'system:engine') expect(meta).not.toHaveProperty('actor');
      else expect(meta.actor).toBe(back.actor);
    }
    expect(read.filter((e) => e.metadata.actor === 'system:engine').length).toBeGreaterThan(10);
    const chain = read.map((e) => ({ revision: e.revision, type: e.type, data: e.data, metadata: e.metadata as unknown as Record<string, unknown> }));
    expect(verifyStream(chain, { publicKeyPem })).toMatchObject({ ok: true, sealed: true, events: 19 });
  });

  it('rows written whole (the earlier format: every field, hex hash) read the same and still verify', async () => {
    const runId = await run();
    const before = await store.readStream(`run-${runId}`);
    await store.close();
    const db = new Database(path);
    const rewrite = db.prepare('UPDATE events SET metadata = ? WHERE position = ?');
    for (const [i, row] of rows(runId).entries()) rewrite.run(JSON.stringify(before[i]?.metadata), row.position);
    db.close();
    store = createSqliteEventStore({ path });
    const after = await store.readStream(`run-${runId}`);
    expect(after.map((e) => e.metadata)).toEqual(before.map((e) => e.metadata));
    const chain = after.map((e) => ({ revision: e.revision, type: e.type, data: e.data, metadata: e.metadata as unknown as Record<string, unknown> }));
    expect(verifyStream(chain, { publicKeyPem })).toMatchObject({ ok: true, sealed: true });
  });

  it('a stored hash that is not the one canonical base64url form of 32 bytes is a corrupt event, not a silent repair', async () => {
    await store.append('run-r1', [{ type: 'RunCancelled', data: { by: { id: 'a', role: 'admin' }, reason: 'x' }, metadata: { correlationId: 'r1', actor: 'system:engine' } }], { expectedRevision: 'no_stream', chain: { previousHash: GENESIS_HASH } });
    await store.close();
    const db = new Database(path);
    const meta = JSON.parse(db.prepare("SELECT metadata FROM events WHERE stream_id = 'run-r1'").pluck().get() as string) as Record<string, string>;
    // The last of 43 characters carries 2 spare bits: flipping one gives the same bytes, another text.
    const last = meta.hash?.slice(-1) as string;
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    // Each of the three twins (one or both spare bits set) is refused.
    for (const flip of [1, 2, 3]) {
      const twin = alphabet[alphabet.indexOf(last) ^ flip] as string;
      const forged = `${meta.hash?.slice(0, -1)}${twin}`;
      expect(Buffer.from(forged, 'base64url')).toEqual(Buffer.from(meta.hash as string, 'base64url'));
      db.prepare("UPDATE events SET metadata = ? WHERE stream_id = 'run-r1'").run(JSON.stringify({ ...meta, hash: forged }));
      store = createSqliteEventStore({ path });
      await expect(store.readStream('run-r1')).rejects.toThrow(CorruptEventError);
      await store.close();
    }
    db.prepare("UPDATE events SET metadata = ? WHERE stream_id = 'run-r1'").run(JSON.stringify(meta));
    db.close();
    store = createSqliteEventStore({ path });
    expect((await store.readStream('run-r1')).map((e) => e.metadata.hash)).toEqual([Buffer.from(meta.hash as string, 'base64url').toString('hex')]);
  });
});
