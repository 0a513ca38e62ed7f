import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildSchema } from 'graphql';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../support/built.js';
import { consoleSources, documentErrors, extractDocuments, readSource } from './graphql-documents.js';

/**
 * The console is a client of the public API only: every document it sends is a `/* GraphQL *\/`
 * template string in console/src, and each must validate against the checked-in schema.graphql,
 * so a renamed or misspelled field fails here instead of in an operator's browser.
 */
const schema = buildSchema(readFileSync(join(repoRoot, 'schema.graphql'), 'utf8'));
const consoleDir = join(repoRoot, 'console', 'src');
const documents = consoleSources(consoleDir).flatMap((file) => extractDocuments(file, readSource(file)));

describe('the console GraphQL documents', () => {
  it('are found (the check is not vacuous): the sign-in query at least', () => {
    expect(documents.some((d) => d.file.endsWith(join('auth', 'me.ts')) && /\bme\s*\{/.test(d.text))).toBe(true);
  });

  it('every /* GraphQL */ document under console/src validates against schema.graphql', () => {
    const errors = documents.flatMap((d) => documentErrors(d, schema, repoRoot));
    expect(errors, errors.join('\n')).toEqual([]);
  });

  it('a misspelled field fails, naming the file, the line and the field', () => {
    const file = join(consoleDir, 'example', 'queries.ts');
    const source = [
      'export const OK = /* GraphQL */ `query Ok { me { id role } }`;',
      '',
      'export const BAD = /* GraphQL */ `',
      '  query Bad { goldenSignals(scope: "overall") { sucessRate } }',
      '`;',
    ].join('\n');
    const found = extractDocuments(file, source);
    expect(found.map((d) => d.line)).toEqual([1, 3]);
    expect(documentErrors(found[0]!, schema, repoRoot)).toEqual([]);
    const errors = documentErrors(found[1]!, schema, repoRoot);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/^console\/src\/example\/queries\.ts:3: Cannot query field "sucessRate" on type "GoldenSignals"/);
  });

  it('a syntax error and an interpolated document fail too', () => {
    const file = join(consoleDir, 'example', 'queries.ts');
    const [broken, interpolated] = extractDocuments(file, 'const A = /* GraphQL */ `query { me { id }`;\nconst B = /* GraphQL */ `query { ${"${x}"} }`;');
    expect(documentErrors(broken!, schema, repoRoot)[0]).toMatch(/queries\.ts:1: Syntax Error/);
    expect(documentErrors(interpolated!, schema, repoRoot)[0]).toMatch(/queries\.ts:2: interpolation/);
  });
});
