import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { type GraphQLSchema, parse, validate } from 'graphql';

/** One `/* GraphQL *\/` template string found in a console source file. */
export interface ConsoleDocument {
  readonly file: string;
  readonly line: number;
  readonly text: string;
}

const MARKED = /\/\*\s*GraphQL\s*\*\/\s*`((?:[^`\\]|\\.)*)`/g;

/** Every `/* GraphQL *\/` template string of one source text, with the line it starts on. */
export function extractDocuments(file: string, source: string): ConsoleDocument[] {
  const found: ConsoleDocument[] = [];
  for (const m of source.matchAll(MARKED)) {
    found.push({ file, line: source.slice(0, m.index).split('\n').length, text: m[1] as string });
  }
  return found;
}

/** The console's .ts/.tsx sources under `dir`, test files included (they may hold documents too). */
export function consoleSources(dir: string): string[] {
  const files: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile() && /\.tsx?$/.test(entry.name)) files.push(join(entry.parentPath, entry.name));
  }
  return files.sort();
}

/**
 * What is wrong with one document, as "file:line: message" lines (none when it validates).
 * A `${…}` inside a document is refused: the check (and anyone reading the file) could not see
 * what it becomes, so documents are kept static.
 */
export function documentErrors(doc: ConsoleDocument, schema: GraphQLSchema, root: string): string[] {
  const where = `${relative(root, doc.file)}:${doc.line}`;
  if (doc.text.includes('${')) return [`${where}: interpolation inside a GraphQL document; keep each document a static string`];
  try {
    return validate(schema, parse(doc.text)).map((e) => `${where}: ${e.message}`);
  } catch (error) {
    return [`${where}: ${(error as Error).message}`];
  }
}

/** Reads a file as UTF-8 (a seam so tests can feed their own text). */
export const readSource = (file: string): string => readFileSync(file, 'utf8');
