import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ValidationError } from '../../src/domain/errors.js';
import { literalSecretPaths, redact, SensitiveKeys } from '../../src/domain/secrets.js';
import { defineTool, ToolError } from '../../src/orchestrator/tools/tool.js';
import { alice, engineHarness } from '../support/engine-harness.js';

// Attack family: secrets in shapes a key-by-key redaction does not see. A careless operator (or
// agent) writes a key the list spells differently, a header as a name/value pair, credentials in a
// URL; a tool answers or fails with a secret inside a string. Each must be kept out of the log.

const keys = new SensitiveKeys();

describe('sensitive keys however they are spelled', () => {
  it.each([
    ['camelCase of a listed key', 'privateKey'],
    ['a dot as separator', 'api.key'],
    ['full-width letters', 'ｐａｓｓｗｏｒｄ'],
    ['a zero-width space inside', 'pass\u200bword'],
    ['a soft hyphen inside', 'to\u00adken'],
    ['a passphrase', 'passphrase'],
    ['an access key', 'awsAccessKey'],
  ])('%s (%s) is sensitive', (_what, key) => {
    expect(keys.matches(key)).toBe(true);
    expect(redact({ [key]: 'hunter2-literal' }, keys)).toEqual({ [key]: '[REDACTED]' });
    expect(literalSecretPaths({ [key]: 'hunter2-literal' }, keys)).toEqual([key]);
  });

  it('refused before: other case and dashes (the baseline), and ordinary keys stay readable', () => {
    for (const k of ['PASSWORD', 'Api-Key', 'x-auth-token', 'refresh_token']) expect(keys.matches(k), k).toBe(true);
    for (const k of ['user', 'host', 'path', 'environment', 'version', 'keyboard']) expect(keys.matches(k), k).toBe(false);
  });
});

describe('secrets inside values of keys that are not sensitive', () => {
  it('a header as a name/value pair ({name: "Authorization", value}) is redacted, and refused as a literal input', () => {
    const input = { headers: [{ name: 'Authorization', value: 'Bearer abc123abc123' }, { name: 'Accept', value: 'json' }], env: [{ key: 'DB_PASSWORD', value: 'pw-literal' }] };
    expect(redact(input, keys)).toEqual({ headers: [{ name: 'Authorization', value: '[REDACTED]' }, { name: 'Accept', value: 'json' }], env: [{ key: 'DB_PASSWORD', value: '[REDACTED]' }] });
    expect(literalSecretPaths(input, keys)).toEqual(['headers[0].value', 'env[0].value']);
    expect(literalSecretPaths({ headers: [{ name: 'Authorization', value: { $secret: 'AUTH' } }] }, keys)).toEqual([]);
  });

  it('a URL with a password is redacted, and refused as a literal input', () => {
    expect(redact({ url: 'postgres://admin:hunter2-pw@db.internal:5432/app', ok: 'https://example.com/a:b@c' }, keys)).toEqual({ url: 'postgres://admin:[REDACTED]@db.internal:5432/app', ok: 'https://example.com/a:b@c' });
    expect(literalSecretPaths({ target: { url: 'https://u:p4ss-word@host/x' } }, keys)).toEqual(['target.url']);
    expect(literalSecretPaths({ url: 'https://user@host/x' }, keys)).toEqual([]);
  });
});

describe('tool outputs and error messages with secrets inside strings', () => {
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  const PASSWORD = 'db-pw-5f1c9e';
  const BEARER = 'eyJhbGciOiJIUzI1NiJ9.tok3n-77aa';
  const RESOLVED = 'resolved-secret-0c4d2b7e';
  const Any = z.record(z.string(), z.unknown());
  const chatty = defineTool({
    name: 'ops.chatty', description: 'x', input: Any, domain: 'ops', action: { category: 'ops', operation: 'read' }, idempotent: true, timeoutMs: 2_000,
    handler: () => ({
      dsn: `postgres://svc:${PASSWORD}@db.internal/app`,
      headers: [{ name: 'Authorization', value: `Bearer ${BEARER}` }],
      log: `GET /x Authorization: Bearer ${BEARER} password=${PASSWORD}&user=svc {"api_key":"${PASSWORD}"}`,
    }),
  });
  const failing = defineTool({
    name: 'ops.failing', description: 'x', input: Any, domain: 'ops', action: { category: 'ops', operation: 'read' }, idempotent: true, timeoutMs: 2_000,
    handler: (input) => {
      // The resolved secret straddles the 10,000-character cut of a recorded error message.
      throw new ToolError('USER', `${'x'.repeat(9_990)}${String((input as { auth: string }).auth)} connecting to postgres://svc:${PASSWORD}@db`, 'CONNECT');
    },
  });

  it('what the tool says is stored with every one of those secrets redacted', async () => {
    process.env.GATEHOUSE_SECRET_H7_AUTH = RESOLVED;
    cleanups.push(async () => { delete process.env.GATEHOUSE_SECRET_H7_AUTH; });
    const h = await engineHarness([chatty, failing]);
    cleanups.push(() => h.close());
    await h.api.startRun({ runId: 'talk', goal: 'x', profile: 'technical', errorStrategy: 'CONTINUE', steps: [
      { id: 'a', tool: 'ops.chatty', input: {}, domain: 'ops' },
      { id: 'b', tool: 'ops.failing', input: { auth: { $secret: 'H7_AUTH' } }, domain: 'ops' },
    ] }, alice);
    await h.settled('talk');
    const stored = JSON.stringify(await h.store.readStream('run-talk'));
    expect(stored).toContain('ToolCallFailed');
    expect(stored).toContain('ToolCallSucceeded');
    for (const secret of [PASSWORD, BEARER, RESOLVED.slice(0, 10)]) expect(stored, secret).not.toContain(secret);
  });

  it('a literal secret as a name/value pair in a run input is refused at the API and nothing is appended', async () => {
    const h = await engineHarness([chatty]);
    cleanups.push(() => h.close());
    await expect(h.api.startRun({ runId: 'lit', goal: 'x', profile: 'technical', steps: [{ id: 'a', tool: 'ops.chatty', input: { headers: [{ name: 'X-Api-Key', value: 'literal-key-1' }] }, domain: 'ops' }] }, alice)).rejects.toBeInstanceOf(ValidationError);
    expect(await h.store.readStream('run-lit')).toEqual([]);
  });
});
