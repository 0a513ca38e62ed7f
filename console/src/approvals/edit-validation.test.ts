import { describe, expect, it } from 'vitest';
import { checkEdit } from './edit-validation';

// The schema the server's `tools` query gives for the demo deploy.release (zod's JSON Schema).
const deploySchema = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  type: 'object',
  properties: {
    environment: { type: 'string', enum: ['dev', 'staging', 'production'] },
    version: { type: 'string', minLength: 1, maxLength: 50 },
  },
  required: ['environment', 'version'],
  additionalProperties: false,
};

describe('checkEdit (an edited input, checked before anything is sent)', () => {
  it('a valid edit gives the object to send', () => {
    expect(checkEdit('{"environment":"dev","version":"1.5"}', deploySchema)).toEqual({ ok: true, value: { environment: 'dev', version: '1.5' } });
  });
  it('schema errors name the field and what is wrong', () => {
    const check = checkEdit('{"environment":"moon","version":""}', deploySchema);
    expect(check.ok).toBe(false);
    const errors = check.ok ? [] : check.errors;
    expect(errors).toHaveLength(2);
    expect(errors[0]).toMatch(/^environment: .*"dev","staging","production"/);
    expect(errors[1]).toMatch(/^version: String is too short/);
  });
  it('a missing field and an unknown field are errors too', () => {
    const check = checkEdit('{"environment":"dev","extra":1}', deploySchema);
    expect(check.ok).toBe(false);
    const text = check.ok ? '' : check.errors.join('\n');
    expect(text).toMatch(/version/);
    expect(text).toMatch(/extra/);
  });
  it('bad JSON says so, with the parser\'s reason', () => {
    const check = checkEdit('{"environment": "dev",', deploySchema);
    expect(check).toMatchObject({ ok: false });
    expect(check.ok ? '' : check.errors[0]).toMatch(/^not valid JSON: /);
  });
  it('JSON that is not an object is refused (a tool input is an object)', () => {
    expect(checkEdit('[1,2]', deploySchema)).toEqual({ ok: false, errors: ['the input must be a JSON object ({ ... })'] });
    expect(checkEdit('null', undefined)).toMatchObject({ ok: false });
  });
  it('without a schema (a tool whose input does not convert), only the JSON shape is checked', () => {
    expect(checkEdit('{"anything":true}', null)).toEqual({ ok: true, value: { anything: true } });
  });
});
