import { describe, expect, it } from 'vitest';
import { literalSecretPaths, redact, resolveSecretRefs, secretNames, SensitiveKeys } from '../../src/domain/secrets.js';

const keys = new SensitiveKeys(['/^x-internal-/i', 'ssn']);

describe('redaction', () => {
  it('redacts every leaf at any depth under a sensitive key, in objects and arrays, keeping the shape', () => {
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
      credentials: { user: '[REDACTED]', secret: '[REDACTED]' },
      tokens: ['[REDACTED]', '[REDACTED]'],
      ssn: '[REDACTED]',
      emptyToken: null,
    });
  });

  it('redacts nested shapes under a sensitive key whatever the inner keys are, but keeps references there', () => {
    expect(redact({ credentials: { user: 'admin', pass: 'pw', port: 5432, tls: true, deep: [{ x: 'y' }] }, token: { value: 'tv' } }, keys)).toEqual({
      credentials: { user: '[REDACTED]', pass: '[REDACTED]', port: '[REDACTED]', tls: '[REDACTED]', deep: [{ x: '[REDACTED]' }] },
      token: { value: '[REDACTED]' },
    });
    expect(redact({ credentials: { user: 'admin', pass: { $secret: 'DB' }, none: null } }, keys)).toEqual({ credentials: { user: '[REDACTED]', pass: { $secret: 'DB' }, none: null } });
    expect(literalSecretPaths({ credentials: { user: 'admin', pass: { $secret: 'DB' } }, token: { value: 'tv' }, tokens: [{ $secret: 'A' }, 'lit'] }, keys)).toEqual([
      'credentials.user',
      'token.value',
      'tokens[1]',
    ]);
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
