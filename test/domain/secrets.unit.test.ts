import { describe, expect, it } from 'vitest';
import { literalSecretPaths, redact, resolveSecretRefs, secretNames, SensitiveKeys } from '../../src/domain/secrets.js';

const keys = new SensitiveKeys(['/^x-internal-/i', 'ssn']);

describe('redaction', () => {
  it('redacts values under sensitive keys, nested and in arrays, and walks objects under them', () => {
    const input = {
      user: 'svc',
      Password: 'p1',
      'API-Key': 'k1',
      headers: { Authorization: 'Bearer t', 'x-internal-trace': 'abc', accept: 'json' },
      list: [{ refresh_token: 'r1' }, 'plain'],
      credentials: { user: 'u', secret: 's' },
      tokens: ['a', 'b'],
      ssn: '123',
      emptyToken: null,
    };
    expect(redact(input, keys)).toEqual({
      user: 'svc',
      Password: '[REDACTED]',
      'API-Key': '[REDACTED]',
      headers: { Authorization: '[REDACTED]', 'x-internal-trace': '[REDACTED]', accept: 'json' },
      list: [{ refresh_token: '[REDACTED]' }, 'plain'],
      credentials: { user: 'u', secret: '[REDACTED]' },
      tokens: '[REDACTED]',
      ssn: '[REDACTED]',
      emptyToken: null,
    });
  });

  it('keeps secret references, and scrubs known secret values inside any string', () => {
    expect(redact({ password: { $secret: 'DB' }, note: 'used hunter22 twice: hunter22' }, keys, ['hunter22'])).toEqual({
      password: { $secret: 'DB' },
      note: 'used [REDACTED] twice: [REDACTED]',
    });
  });

  it('finds literal secrets that must be references, and resolves references', () => {
    expect(literalSecretPaths({ a: { password: 'x', token: { $secret: 'T' } }, list: [{ api_key: 'y' }] }, keys)).toEqual(['a.password', 'list[0].api_key']);
    expect(secretNames({ a: { $secret: 'A' }, b: [{ $secret: 'B' }] })).toEqual(['A', 'B']);
    expect(resolveSecretRefs({ a: { $secret: 'A' }, b: [1, { $secret: 'B' }] }, (n) => `v-${n}`)).toEqual({ a: 'v-A', b: [1, 'v-B'] });
  });
});
