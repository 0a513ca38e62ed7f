import { isDeepStrictEqual } from 'node:util';
import { describe, expect, it } from 'vitest';
import { EventCodec } from '../../src/adapters/eventstore/shared/codec.js';
import { canonicalJson } from '../../src/domain/audit/canonical-json.js';
import { eventHash, GENESIS_HASH } from '../../src/domain/audit/chain.js';
import { ValidationError } from '../../src/domain/errors.js';
import { formatIssues, runEventCatalog } from '../../src/domain/events/index.js';
import { EventMetadata } from '../../src/domain/events/metadata.js';
import { ev, type SpecEvent } from '../support/projections-events.js';

const ref = { approvalId: 'r1/s1/1', stepId: 's1' };
/** Valid events as the domain builds them (objects, not parsed JSON). */
const samples: SpecEvent[] = [
  ev.started('r1', 0, { deadline: '2025-03-01T13:00:00.000Z', playbook: 'pb', idempotencyKey: 'k' }),
  ev.plan('r1', [{ id: 's1' }, { id: 's2', dependsOn: ['s1'] }]),
  ev.routed('r1', 's1'),
  ev.requested('r1', 's1'),
  ev.granted('r1', 's1'),
  ev.denied('r1', 's1'),
  { runId: 'r1', type: 'ApprovalExpired', data: { ...ref, outcome: 'denied', expiredAt: '2025-03-01T13:00:00Z' } },
  { runId: 'r1', type: 'ApprovalAutoApproved', data: { ...ref, approver: 'rules', rule: 'low-risk', reason: 'read only' } },
  ev.budgetExceeded('r1', 's2', 11, 10, 'warn'),
  ev.callStarted('r1', 's1'),
  ev.succeeded('r1', 's1', 1, 12),
  ev.failed('r1', 's1', 1, 12, 0, 500),
  { runId: 'r1', type: 'RunAggregated', data: { outputs: { s1: { n: 1 } }, completedSteps: ['s1'], failedSteps: [], skippedSteps: ['s2'] } },
  ev.completed('r1', 0, 'PARTIAL'),
  ev.cancelled('r1'),
];

/** Values JSON cannot hold or that zod refuses or changes, put anywhere in an event. */
const ODD_VALUES: unknown[] = [
  null, true, 0, -0, -1, 1.5, NaN, Infinity, -Infinity, undefined, 10n, new Date(0), new Map([['a', 1]]), [undefined], [1, , 2], '', 'x',
  'x'.repeat(201), '2025-02-30T00:00:00Z', 'not-a-date', [], ['x'], {}, { id: 'x' }, { role: 1 }, JSON.parse('{"__proto__": {"role": 1}}'),
  JSON.parse('{"__proto__": "x", "id": "bob", "role": "tech_lead"}'), { toJSON: () => 'bob' },
];

function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A copy of `value` with one random change inside: a key dropped, added, or given an odd value. */
function mutate(value: unknown, rnd: () => number): unknown {
  const copy = structuredClone(value) as Record<string, unknown>;
  const containers: Array<Record<string, unknown>> = [];
  const walk = (v: unknown) => {
    if (v !== null && typeof v === 'object') {
      containers.push(v as Record<string, unknown>);
      for (const child of Object.values(v)) walk(child);
    }
  };
  walk(copy);
  const target = containers[Math.floor(rnd() * containers.length)] as Record<string, unknown>;
  const keys = Object.keys(target);
  const odd = ODD_VALUES[Math.floor(rnd() * ODD_VALUES.length)];
  const choice = rnd();
  if (choice < 0.2 && keys.length > 0) delete target[keys[Math.floor(rnd() * keys.length)] as string];
  else if (choice < 0.3) target[Array.isArray(target) ? target.length : `extra${Math.floor(rnd() * 3)}`] = odd;
  else if (keys.length > 0) target[keys[Math.floor(rnd() * keys.length)] as string] = odd;
  return copy;
}

function outcome<T>(f: () => T): { ok: T } | { error: string } {
  try {
    return { ok: f() };
  } catch (error) {
    return { error: `${(error as Error).constructor.name}: ${(error as Error).message}` };
  }
}

describe('the append check (Ajv first, zod for the rest)', () => {
  it('stores and hashes exactly what zod alone accepts and produces: 20,000 random mutations of domain-built events', () => {
    const codec = new EventCodec();
    const rnd = random(20261126);
    let accepted = 0;
    for (let i = 0; i < 20_000; i++) {
      const e = samples[i % samples.length] as SpecEvent;
      const mutateMeta = rnd() < 0.2;
      const data = mutateMeta ? e.data : mutate(e.data, rnd);
      const metadata = (mutateMeta ? mutate({ correlationId: 'r1', actor: 'user:bob' }, rnd) : { correlationId: 'r1', actor: 'user:bob' }) as { correlationId: string; actor: string };
      const ours = outcome(() => {
        const [p] = codec.prepareAppend('run-r1', [{ type: e.type, data, metadata }], 'no_stream', { previousHash: GENESIS_HASH });
        return { data: JSON.parse(p?.dataJson ?? ''), hash: p?.metadata.hash, metadata: JSON.parse(JSON.stringify(p?.metadata)) };
      });
      // The codec before the quick check: zod on data and metadata, the hash over what zod returned.
      const reference = outcome(() => {
        const where = 'append to run-r1, event #0';
        const parsed = runEventCatalog.validate(e.type, data, where);
        const meta = EventMetadata.safeParse({ schemaVersion: 1, ...metadata });
        if (!meta.success) throw new ValidationError(`${where}: metadata is invalid: ${formatIssues(meta.error)}`);
        let text: string;
        try {
          text = JSON.stringify(parsed);
        } catch (error) {
          throw new ValidationError(`${where}: data is not JSON-serializable: ${(error as Error).message}`);
        }
        const hash = eventHash(GENESIS_HASH, e.type, parsed, meta.data);
        return { data: JSON.parse(canonicalJson(JSON.parse(text))), hash, metadata: { ...meta.data, hash } };
      });
      if ('ok' in reference) accepted++;
      // Both refuse with the same error, or both store and hash the same.
      const same = 'error' in ours ? 'error' in reference && ours.error === reference.error : isDeepStrictEqual(ours, reference);
      if (!same) expect({ i, type: e.type, data, metadata, ours }).toEqual({ i, type: e.type, data, metadata, ours: reference });
    }
    expect(accepted).toBeGreaterThan(1_000);
    expect(accepted).toBeLessThan(18_000);
  });

  it('refuses NaN, Infinity and a Date where a number or a string is due, as zod does, and appends nothing', () => {
    const codec = new EventCodec();
    const base = ev.succeeded('r1', 's1', 1, 12);
    for (const durationMs of [NaN, Infinity]) {
      expect(() => codec.prepareAppend('run-r1', [{ type: base.type, data: { ...(base.data as object), durationMs }, metadata: { correlationId: 'r1', actor: 'a' } }], 'no_stream')).toThrow(/durationMs/);
    }
    const started = ev.callStarted('r1', 's1');
    expect(() => codec.prepareAppend('run-r1', [{ type: started.type, data: { ...(started.data as object), startedAt: new Date(0) }, metadata: { correlationId: 'r1', actor: 'a' } }], 'no_stream')).toThrow(/startedAt/);
  });
});

describe('metadata as stored', () => {
  it("leaves out the run's id, schemaVersion 1 and the engine's actor, keeps the hash as base64url, reads them back, and still reads rows written whole", async () => {
    const { createSqliteEventStore } = await import('../../src/adapters/eventstore/sqlite/sqlite-event-store.js');
    const { mkdtempSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const Database = (await import('better-sqlite3')).default;
    const dir = mkdtempSync(join(tmpdir(), 'gatehouse-meta-'));
    try {
      const path = join(dir, 'events.sqlite');
      const store = createSqliteEventStore({ path });
      const e = ev.callStarted('r1', 's1');
      await store.append('run-r1', [{ type: e.type, data: e.data, metadata: { correlationId: 'r1', actor: 'system:engine' } }], { expectedRevision: 'no_stream', chain: { previousHash: GENESIS_HASH } });
      // A correlation id that is not the stream's own is kept.
      await store.append('run-r1', [{ type: e.type, data: e.data, metadata: { correlationId: 'other', actor: 'system:engine' } }], { expectedRevision: 0 });
      const db = new Database(path);
      const rows = db.prepare('SELECT metadata FROM events ORDER BY position').pluck().all() as string[];
      expect(JSON.parse(rows[0] as string)).toEqual({ hash: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/) });
      expect(JSON.parse(rows[1] as string)).toEqual({ correlationId: 'other' });
      // A row written whole, as before this layout (and by an older Gatehouse), reads the same.
      db.prepare('INSERT INTO events (stream_id, revision, event_id, type, data, metadata, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?)').run(
        'run-r1', 2, '00000000-0000-4000-8000-000000000001', e.type, JSON.stringify(e.data), JSON.stringify({ correlationId: 'r1', actor: 'user:bob', schemaVersion: 1 }), 0,
      );
      db.close();
      const read = await store.readStream('run-r1');
      expect(read.map((r) => r.metadata)).toEqual([
        { correlationId: 'r1', actor: 'system:engine', schemaVersion: 1, hash: expect.stringMatching(/^[0-9a-f]{64}$/) },
        { correlationId: 'other', actor: 'system:engine', schemaVersion: 1 },
        { correlationId: 'r1', actor: 'user:bob', schemaVersion: 1 },
      ]);
      // The hash covers the metadata as read, not as stored.
      expect(read[0]?.metadata.hash).toBe(eventHash(GENESIS_HASH, e.type, read[0]?.data, read[0]?.metadata as Record<string, unknown>));
      await store.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('data that cannot be written', () => {
  it('a cycle in a chained append is refused as not JSON-serializable, naming the cycle, and appends nothing', async () => {
    const { createMemoryEventStore } = await import('../../src/adapters/eventstore/memory/memory-event-store.js');
    const store = createMemoryEventStore();
    const base = ev.succeeded('r1', 's1', 1, 12);
    const output: Record<string, unknown> = {};
    output.self = output;
    const append = store.append('run-r1', [{ type: base.type, data: { ...(base.data as object), output }, metadata: { correlationId: 'r1', actor: 'a' } }], {
      expectedRevision: 'no_stream',
      chain: { previousHash: GENESIS_HASH },
    });
    await expect(append).rejects.toThrow(ValidationError);
    await expect(append).rejects.toThrow(/not JSON-serializable: Converting circular structure/);
    expect(await store.readStream('run-r1')).toEqual([]);
    await store.close();
  });
});
