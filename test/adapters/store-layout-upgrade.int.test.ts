import { createHash, generateKeyPairSync, randomUUID, sign } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createSqliteEventStore } from '../../src/adapters/eventstore/sqlite/sqlite-event-store.js';
import { keyIdOf } from '../../src/domain/audit/chain.js';
import { verifyStream } from '../../src/domain/audit/verify.js';
import { TERMINAL_RUN } from '../../src/domain/run/state.js';
import { Orchestrator } from '../../src/orchestrator/api.js';
import { RunEngine } from '../../src/orchestrator/engine.js';
import { defineTool, ToolRegistry } from '../../src/orchestrator/tools/tool.js';
import { runStarted } from '../support/events.js';
import { tempFileEachTest } from '../support/temp-each.js';

// The row format changed (base64url hash, the engine's actor left out): a Gatehouse that reads
// layout v1 would open such a file and fail later, event by event. The layout version is the one
// thing every earlier release checks at open (since the first commit: `version > 1` is refused
// with "event store file has layout vN; this Gatehouse reads up to v1"), so the new rows come
// with v2, and older files are raised to it when this version opens them.

const noop = defineTool({ name: 'noop', description: 'x', input: z.object({ n: z.number() }), domain: 'test', action: { category: 'read', operation: 'read' }, idempotent: true, timeoutMs: 5_000, handler: (i) => ({ n: i.n }) });
const tools = new ToolRegistry([noop]);
const { privateKey, publicKey } = generateKeyPairSync('ed25519');
const publicKeyPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
const signer = { publicKeyPem, keyId: keyIdOf(publicKeyPem), sign: (p: string) => sign(null, Buffer.from(p), privateKey).toString('base64') };
const steps = [0, 1, 2].map((i) => ({ id: `s${i}`, tool: 'noop', input: { n: i }, domain: 'test', dependsOn: i === 0 ? [] : [`s${i - 1}`] }));

const layoutOf = (path: string): number => {
  const db = new Database(path, { readonly: true });
  try {
    return db.pragma('user_version', { simple: true }) as number;
  } finally {
    db.close();
  }
};
const sha = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

describe('SQLite event store: layout version across upgrades', () => {
  let path: string;
  tempFileEachTest((p) => { path = p; });

  it('a file this version writes has layout v2, which every release reading v1 refuses at open', async () => {
    const store = createSqliteEventStore({ path });
    await store.append('run-a', [runStarted('a')]);
    await store.close();
    expect(layoutOf(path)).toBe(2);
  });

  it('a v1 file (rows in the earlier format) opens, is raised to v2, reads the same, verifies, and takes appends', async () => {
    let store = createSqliteEventStore({ path });
    const engine = new RunEngine({ store, tools, signer, onError: (e) => { throw e; } });
    const runId = randomUUID();
    await new Orchestrator({ engine, tools }).startRun({ runId, goal: 'g', profile: 'technical', steps }, { id: 'u', role: 'developer' });
    await engine.waitFor(runId, (s) => TERMINAL_RUN.has(s.status));
    await engine.close();
    const before = await store.readStream(`run-${runId}`);
    await store.close();
    // What the previous release left: every metadata field written out, the hash in hex, layout v1.
    const db = new Database(path);
    const rewrite = db.prepare('UPDATE events SET metadata = ? WHERE stream_id = ? AND revision = ?');
    for (const e of before) rewrite.run(JSON.stringify(e.metadata), `run-${runId}`, e.revision);
    db.pragma('user_version = 1');
    db.close();
    expect(layoutOf(path)).toBe(1);

    store = createSqliteEventStore({ path });
    expect(layoutOf(path)).toBe(2);
    const after = await store.readStream(`run-${runId}`);
    expect(after).toEqual(before);
    const chain = after.map((e) => ({ revision: e.revision, type: e.type, data: e.data, metadata: e.metadata as unknown as Record<string, unknown> }));
    expect(verifyStream(chain, { publicKeyPem })).toMatchObject({ ok: true, sealed: true });
    await store.append('run-b', [runStarted('b')], { expectedRevision: 'no_stream' });
    expect(await store.readStream('run-b')).toHaveLength(1);
    await store.close();
  });

  it('a file claiming a newer layout is refused with a clear error, and not one byte of it is written', async () => {
    // A rollback-journal file (not WAL): switching it to WAL alone would rewrite its header.
    const db = new Database(path);
    db.exec('CREATE TABLE events (position INTEGER PRIMARY KEY AUTOINCREMENT, stream_id TEXT NOT NULL, revision INTEGER NOT NULL, event_id TEXT NOT NULL, type TEXT NOT NULL, data TEXT NOT NULL, metadata TEXT NOT NULL, recorded_at INTEGER NOT NULL)');
    db.prepare("INSERT INTO events (stream_id, revision, event_id, type, data, metadata, recorded_at) VALUES ('run-x', 0, 'e', 'Future', '{}', '{}', 0)").run();
    db.pragma('user_version = 3');
    db.close();
    const bytes = sha(path);
    const size = statSync(path).size;

    expect(() => createSqliteEventStore({ path })).toThrow('event store file has layout v3; this Gatehouse reads up to v2: open it with the Gatehouse version that wrote it, or a newer one');
    expect(sha(path)).toBe(bytes);
    expect(statSync(path).size).toBe(size);
    expect(existsSync(`${path}-wal`) ? statSync(`${path}-wal`).size : 0).toBe(0);
    expect(layoutOf(path)).toBe(3);
  });
});
