import 'reflect-metadata';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { schemaText } from '../../src/graphql/schema-text.js';
import { repoRoot } from '../support/built.js';

describe('schema.graphql', () => {
  it('is what the type-graphql code emits (run `npm run schema` after changing the API)', async () => {
    expect(readFileSync(join(repoRoot, 'schema.graphql'), 'utf8')).toBe(await schemaText());
  });
});
