import { isDeepStrictEqual } from 'node:util';
import { describe, expect, it } from 'vitest';
import { EventCodec } from '../../src/adapters/eventstore/shared/codec.js';
import { ReadValidator } from '../../src/adapters/eventstore/shared/read-validator.js';
import { CorruptEventError } from '../../src/domain/errors.js';
import { runEventCatalog, runEventDefinitions } from '../../src/domain/events/index.js';
import { EventCatalog } from '../../src/domain/events/catalog.js';
import { z } from 'zod';
import { EventMetadata } from '../../src/domain/events/metadata.js';
import { ev, type SpecEvent } from '../support/projections-events.js';
import { metadataAsRead } from '../support/stored-metadata.js';

const bob = { id: 'bob', role: 'tech_lead' };
const ref = { approvalId: 'r1/s1/1', stepId: 's1' };
/** One valid event of every type the catalog has. */
const samples: SpecEvent[] = [
  ev.started('r1', 0, { deadline: '2025-03-01T13:00:00.000Z', playbook: 'pb', idempotencyKey: 'k' }),
  ev.plan('r1', [{ id: 's1' }, { id: 's2', dependsOn: ['s1'] }]),
  ev.routed('r1', 's1'),
  ev.requested('r1', 's1'),
  ev.granted('r1', 's1'),
  ev.denied('r1', 's1'),
  ev.escalated('r1', 's1'),
  { runId: 'r1', type: 'ApprovalExpired', data: { ...ref, outcome: 'denied', expiredAt: '2025-03-01T13:00:00Z' } },
  { runId: 'r1', type: 'ApprovalCancelled', data: { ...ref, by: bob, reason: 'run cancelled' } },
  { runId: 'r1', type: 'ApprovalAutoApproved', data: { ...ref, approver: 'rules', rule: 'low-risk', reason: 'read only' } },
  { runId: 'r1', type: 'ApproverConsultationStarted', data: { ...ref, instance: 'i-1', startedAt: '2025-03-01T12:00:00Z', leaseUntil: '2025-03-01T12:00:07Z' } },
  ev.budgetWarning('r1', 8, 10),
  ev.budgetExceeded('r1', 's2', 11, 10, 'warn'),
  ev.callStarted('r1', 's1'),
  ev.succeeded('r1', 's1', 1, 12),
  ev.failed('r1', 's1', 1, 12, 0, 500),
  { runId: 'r1', type: 'StepSkipped', data: { stepId: 's2', reason: 'dependency failed', becauseOf: 's1' } },
  { runId: 'r1', type: 'RunAggregated', data: { outputs: { s1: { n: 1 } }, completedSteps: ['s1'], failedSteps: [], skippedSteps: ['s2'] } },
  ev.completed('r1', 0, 'PARTIAL'),
  {
    runId: 'r1',
    type: 'RunFailed',
    data: { stage: 'EXECUTE', error: { message: 'boom' }, failureMode: 'SYSTEM', partialResult: { completedSteps: [{ stepId: 's1', output: 1 }], failedStep: 's2', remainingSteps: [] } },
  },
  ev.cancelled('r1'),
  { runId: 'r1', type: 'RunResumed', data: { by: bob, reason: 'fixed' } },
];

/** Each sample as it is stored: parsed by zod on append, then written as JSON and read back. */
function stored(): Array<{ type: string; data: unknown; metadata: unknown }> {
  const codec = new EventCodec();
  return samples.map((s) => {
    const [prepared] = codec.prepareAppend(`run-${s.runId}`, [{ type: s.type, data: s.data, metadata: { correlationId: s.runId, actor: 'user:bob' } }], 0, {
      previousHash: '0'.repeat(64),
    });
    if (!prepared) throw new Error('nothing prepared');
    // The row leaves out what every run event repeats and keeps the hash short; the codec puts them back as it reads.
    return { type: s.type, data: JSON.parse(prepared.dataJson), metadata: metadataAsRead(`run-${s.runId}`, JSON.parse(prepared.metadataJson) as Record<string, unknown>) };
  });
}

/** A small deterministic PRNG, so a failure can be replayed. */
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

const ODD_VALUES: unknown[] = [
  null, true, 0, -1, 1.5, 2 ** 53, '', 'x', 'x'.repeat(201), '😀'.repeat(201), '😀'.repeat(200), '2025-02-30T00:00:00Z', 'not-a-date',
  'a'.repeat(64), 'g'.repeat(64), [], ['x'], {}, { id: 'x' }, { role: 1 }, JSON.parse('{"__proto__": {"role": 1}}'),
];

/** A copy of `value` with one random change somewhere inside: a key dropped, added or given an odd value. */
function mutate(value: unknown, rnd: () => number): unknown {
  const copy = structuredClone(value) as Record<string, unknown>;
  const containers: Array<Record<string, unknown> | unknown[]> = [];
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

describe('the quick read check (Ajv from the zod schemas)', () => {
  it('has a check for every event type and for metadata, and passes what the store writes', () => {
    const quick = new ReadValidator(runEventCatalog);
    const events = stored();
    expect(new Set(events.map((e) => e.type))).toEqual(new Set(runEventCatalog.types()));
    for (const e of events) {
      expect({ type: e.type, data: quick.dataOk(e.type, e.data), metadata: quick.metadataOk(e.metadata) }).toEqual({ type: e.type, data: true, metadata: true });
    }
  });

  it('decoding through the quick check gives exactly what zod gives: 20,000 random mutations of stored events', () => {
    const codec = new EventCodec();
    const quick = new ReadValidator(runEventCatalog);
    const events = stored();
    const rnd = random(20251122);
    let quickPath = 0;
    for (let i = 0; i < 20_000; i++) {
      const e = events[i % events.length] as (typeof events)[number];
      const mutateMeta = rnd() < 0.25;
      const data = mutateMeta ? e.data : mutate(e.data, rnd);
      const metadata = mutateMeta ? mutate(e.metadata, rnd) : e.metadata;
      const dataJson = JSON.stringify(data);
      const metadataJson = JSON.stringify(metadata);
      if (quick.dataOk(e.type, JSON.parse(dataJson)) && quick.metadataOk(JSON.parse(metadataJson))) quickPath++;
      const ours = outcome(() => {
        const r = codec.decodeFields('id', 'run-r1', 3, '4', e.type, dataJson, metadataJson, new Date(0));
        return { data: r.data, metadata: r.metadata };
      });
      // zod alone, as the codec decoded every event before the quick check existed.
      const reference = outcome(() => {
        const meta = EventMetadata.safeParse(metadataAsRead('run-r1', JSON.parse(metadataJson) as Record<string, unknown>));
        if (!meta.success) throw new Error('metadata');
        return { data: runEventCatalog.decode(e.type, JSON.parse(dataJson), meta.data.schemaVersion, 'run-r1', 3), metadata: meta.data };
      });
      if (!isDeepStrictEqual(ours, reference)) expect({ i, type: e.type, dataJson, metadataJson, ours }).toEqual({ i, type: e.type, dataJson, metadataJson, ours: reference });
    }
    // Both sides were exercised: many mutations stay valid (odd values in free-form fields), most do not.
    expect(quickPath).toBeGreaterThan(1_000);
    expect(quickPath).toBeLessThan(15_000);
  });

  it('sends data written with an older schema version to the upcaster, even when it also fits the current schema', () => {
    const V2 = z.object({ stepId: z.string(), attempt: z.number(), output: z.unknown(), durationMs: z.number(), workerLatencyMs: z.number().optional() });
    const v2 = new EventCatalog(
      { ...runEventDefinitions, ToolCallSucceeded: { stage: 'EXECUTE', schema: V2, version: 2 } },
      [{ type: 'ToolCallSucceeded', fromVersion: 1, up: (d) => ({ ...(d as object), workerLatencyMs: 0 }) }],
    );
    const codec = new EventCodec({ catalog: v2 });
    const data = JSON.stringify({ stepId: 's1', attempt: 1, output: null, durationMs: 3 });
    const metadata = (version: number) => JSON.stringify({ correlationId: 'r1', actor: 'system:engine', schemaVersion: version });
    const read = (version: number) => codec.decodeFields('00000000-0000-4000-8000-000000000001', 'run-r1', 0, '1', 'ToolCallSucceeded', data, metadata(version), new Date(0)).data;
    expect(read(1)).toEqual({ stepId: 's1', attempt: 1, output: null, durationMs: 3, workerLatencyMs: 0 });
    expect(read(2)).toEqual({ stepId: 's1', attempt: 1, output: null, durationMs: 3 });
  });

  it('agrees with zod where JSON Schema and zod differ: UTF-16 lengths, "__proto__" keys', () => {
    const codec = new EventCodec();
    const [e] = stored().filter((x) => x.type === 'ToolCallStarted');
    if (!e) throw new Error('no sample');
    const decode = (data: unknown, metadata: unknown) => codec.decodeFields('id', 'run-r1', 3, '4', e.type, JSON.stringify(data), JSON.stringify(metadata), new Date(0));
    // zod 4 counts code points: 200 emoji (400 UTF-16 units) are a valid actor, 201 are not.
    expect(decode(e.data, { ...(e.metadata as object), actor: '😀'.repeat(200) }).metadata.actor).toHaveLength(400);
    expect(() => decode(e.data, { ...(e.metadata as object), actor: '😀'.repeat(201) })).toThrow(CorruptEventError);
    expect(new ReadValidator(runEventCatalog).metadataOk({ ...(e.metadata as object), actor: '😀'.repeat(200) })).toBe(true);
    // zod drops a "__proto__" key of a free-form object; the quick path must not keep it.
    const input = JSON.parse('{"__proto__": {"admin": true}, "q": 1}') as Record<string, unknown>;
    const decoded = decode({ ...(e.data as object), input }, e.metadata).data as { input: Record<string, unknown> };
    expect(Object.keys(decoded.input)).toEqual(['q']);
    expect(Object.getPrototypeOf(decoded.input)).toBe(Object.prototype);
  });
});

/** A decode's result, or just "refused" (the messages differ between the paths only in wording). */
function outcome(decode: () => { data: unknown; metadata: unknown }): { data: unknown; metadata: unknown } | 'refused' {
  try {
    return decode();
  } catch {
    return 'refused';
  }
}
