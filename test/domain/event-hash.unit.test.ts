import { hash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../../src/domain/audit/canonical-json.js';
import { canonicalEventHash, canonicalEventHashes, eventHash, GENESIS_HASH } from '../../src/domain/audit/chain.js';

/** The chain's definition (DESIGN.md "Audit integrity"), written out the long way. */
function reference(previous: string, type: string, data: unknown, metadata: Record<string, unknown>): string {
  const { hash: _own, ...rest } = metadata;
  return hash('sha256', `${previous}\n${type}\n${canonicalJson(data)}\n${canonicalJson(rest)}`, 'hex');
}

// Stored hashes must keep verifying: however the store computes the hash (one digest for the hex it
// keeps and the base64url it stores), it is the chain's definition, for every shape metadata can take.
const shapes: Record<string, unknown>[] = [
  { correlationId: 'r1', actor: 'system:engine', schemaVersion: 1 },
  { schemaVersion: 1, correlationId: 'r1', actor: 'user:bob', hash: 'f'.repeat(64) },
  { actor: 'system:engine', correlationId: 'r1', schemaVersion: 1, keyId: 'a'.repeat(64), signedAt: '2026-01-01T00:00:00.000Z', seal: 'c2VhbA==', instance: 'i-1' },
  { actor: 'x', correlationId: 'r', schemaVersion: 2, causationId: undefined, policyVersion: 'p' },
  { actor: 'é"\\\n\u2028😀', correlationId: 'Z', schemaVersion: 1, a: true, b: null, c: -0, d: 1e21, e: 0.1 + 0.2, f: Number.NaN },
  { actor: 'x', '10': 'ten', '2': 'two', correlationId: 'r', schemaVersion: 1 },
  { actor: 'x', nested: { z: 1, a: [3, { y: 2, b: 1 }] }, correlationId: 'r', schemaVersion: 1 },
  { actor: 'x', when: new Date(0), correlationId: 'r', schemaVersion: 1 },
  { Zed: 1, apple: 2, _u: 3, 'a-b': 4, 'a b': 5, ä: 6, actor: 'x', correlationId: 'r', schemaVersion: 1 },
  JSON.parse('{"__proto__": "p", "actor": "x", "correlationId": "r", "schemaVersion": 1}') as Record<string, unknown>,
  {},
];

describe('event hash', () => {
  it.each(shapes.map((m, i) => [i, m] as const))('metadata shape #%i hashes as the chain defines it', (_i, metadata) => {
    const data = { b: 1, a: { d: [1, 2], c: 'x' } };
    expect(eventHash(GENESIS_HASH, 'T', data, metadata)).toBe(reference(GENESIS_HASH, 'T', data, metadata));
    expect(canonicalEventHash('1'.repeat(64), 'T', canonicalJson(data), metadata)).toBe(reference('1'.repeat(64), 'T', data, metadata));
    // The store's pair: the hex it keeps in memory and the base64url of the same 32 bytes it writes.
    const both = canonicalEventHashes('1'.repeat(64), 'T', canonicalJson(data), metadata);
    expect(both.hex).toBe(reference('1'.repeat(64), 'T', data, metadata));
    expect(both.base64url).toBe(Buffer.from(both.hex, 'hex').toString('base64url'));
  });
  it('writes the hex of any 32 bytes from their base64url form exactly as Buffer does', () => {
    for (let i = 0; i < 2_000; i++) {
      const both = canonicalEventHashes(hash('sha256', String(i), 'hex'), `T${i}`, String(i), { i });
      expect(both.hex).toBe(Buffer.from(both.base64url, 'base64url').toString('hex'));
      expect(both.hex).toMatch(/^[0-9a-f]{64}$/);
    }
  });
});
