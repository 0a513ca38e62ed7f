import { isSecretRef } from '../../domain/secrets.js';
import type { ToolDefinition } from './tool.js';

/** One way an input does not fit its tool: where (a dotted path, `(input)` for the whole) and why. */
export interface InputIssue {
  readonly path: string;
  readonly message: string;
}

/**
 * Checks an input against its tool's schema before anything is recorded. A `{ "$secret": NAME }`
 * reference stands for a value only known at execution time, so whatever the schema says about
 * that place is checked then (by the invoker), not here.
 */
export function inputIssues(tool: ToolDefinition, input: Record<string, unknown>): InputIssue[] {
  const secretPaths: Array<Array<string | number>> = [];
  const placeholder = withPlaceholders(input, [], secretPaths);
  const result = tool.input.safeParse(placeholder);
  if (result.success) return [];
  return result.error.issues
    .filter((i) => !secretPaths.some((p) => p.every((k, n) => String(i.path[n]) === String(k))))
    .map((i) => ({ path: i.path.length === 0 ? '(input)' : i.path.map(String).join('.'), message: i.message }));
}

function withPlaceholders(value: unknown, path: Array<string | number>, found: Array<Array<string | number>>): unknown {
  if (isSecretRef(value)) {
    found.push(path);
    return 'secret-reference';
  }
  if (Array.isArray(value)) return value.map((v, i) => withPlaceholders(v, [...path, i], found));
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, withPlaceholders(v, [...path, k], found)]));
  return value;
}
