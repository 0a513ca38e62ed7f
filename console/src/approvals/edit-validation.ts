import { type Schema, Validator } from '@cfworker/json-schema';

/** The outcome of checking an edited input: the object to send, or what is wrong (nothing is sent). */
export type EditCheck = { ok: true; value: Record<string, unknown> } | { ok: false; errors: string[] };

/**
 * Parses an edited tool input and checks it against the tool's JSON Schema (from the `tools`
 * query) before anything is sent. @cfworker/json-schema, because it interprets the schema without
 * `eval`, which the console's CSP forbids. Without a schema only the JSON shape is checked; the
 * server validates again either way.
 */
export function checkEdit(text: string, schema: unknown): EditCheck {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { ok: false, errors: [`not valid JSON: ${(error as Error).message}`] };
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return { ok: false, errors: ['the input must be a JSON object ({ ... })'] };
  }
  if (schema === null || schema === undefined || typeof schema !== 'object') return { ok: true, value: value as Record<string, unknown> };
  const result = new Validator(schema as Schema, draftOf(schema as Schema), false).validate(value);
  if (result.valid) return { ok: true, value: value as Record<string, unknown> };
  // The validator reports each failing keyword and the "properties" keyword that contains it;
  // only the innermost failures say what to fix.
  const leaves = result.errors.filter((e) => e.keyword !== 'properties' && e.keyword !== 'items' && e.keyword !== 'allOf');
  const shown = (leaves.length > 0 ? leaves : result.errors).map((e) => `${fieldOf(e.instanceLocation)}: ${e.error}`);
  return { ok: false, errors: [...new Set(shown)] };
}

/** "#/environment" → "environment"; the whole input is "input". */
function fieldOf(instanceLocation: string): string {
  const path = instanceLocation.replace(/^#\/?/, '').split('/').filter(Boolean).join('.');
  return path === '' ? 'input' : path;
}

function draftOf(schema: Schema): '4' | '7' | '2019-09' | '2020-12' {
  const s = schema.$schema ?? '';
  if (s.includes('draft-04')) return '4';
  if (s.includes('draft-07')) return '7';
  if (s.includes('2019-09')) return '2019-09';
  return '2020-12';
}
