/**
 * `npm run schema`: writes schema.graphql at the repository root from the type-graphql code.
 * `--check` exits 1 when the file is stale instead of writing it (a test does the same in CI).
 */
import 'reflect-metadata';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { schemaText } from '../graphql/schema-text.js';

const root = join(fileURLToPath(new URL('.', import.meta.url)), '..', '..', '..');
const file = join(root, 'schema.graphql');
const text = await schemaText();
if (process.argv.includes('--check')) {
  const current = existsSync(file) ? readFileSync(file, 'utf8') : '';
  if (current !== text) {
    process.stderr.write('schema.graphql is stale: run `npm run schema` and commit it\n');
    process.exit(1);
  }
  process.stdout.write('schema.graphql is up to date\n');
} else {
  writeFileSync(file, text);
  process.stdout.write(`wrote ${file}\n`);
}
